import { copySession, messageKey } from "./records";
import {
  DEFAULT_STORE_LIMITS,
  StoreAccounting,
  checkLimits,
  storedBytes,
  type AddMessageResult,
  type NewStoredMessage,
  type SessionStore,
  type SessionStoreCounters,
  type SessionStoreLimits,
  type SessionStoreUsage,
  type StoredMessage,
  type StoredSession,
} from "./session-store";

/**
 * A SessionStore in memory: same rules and limits as the LevelDB one, nothing survives the process.
 * For unit tests and for gateways run without a store path. Data survives close() and open() of the
 * same instance.
 */
export class MemorySessionStore implements SessionStore {
  readonly location = "memory";
  readonly limits: SessionStoreLimits;
  readonly counters: SessionStoreCounters = { refusedMessages: 0, refusedSessions: 0, corrupt: 0 };
  private readonly sessionTable = new Map<string, StoredSession>();
  /** Per client, its messages in arrival order. */
  private readonly queues = new Map<string, StoredMessage[]>();
  private readonly accounting: StoreAccounting;
  private nextSeq = 1;
  private isOpen = false;

  constructor(limits: Partial<SessionStoreLimits> = {}) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...limits };
    checkLimits(this.limits);
    this.accounting = new StoreAccounting(this.limits);
  }

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  async putSession(session: StoredSession): Promise<boolean> {
    this.assertOpen();
    if (!this.sessionTable.has(session.clientId) && this.sessionTable.size >= this.limits.maxSessions) {
      this.counters.refusedSessions++;
      return false;
    }
    this.sessionTable.set(session.clientId, copySession(session));
    return true;
  }

  async getSession(clientId: string): Promise<StoredSession | undefined> {
    this.assertOpen();
    const session = this.sessionTable.get(clientId);
    return session === undefined ? undefined : copySession(session);
  }

  async sessions(): Promise<StoredSession[]> {
    this.assertOpen();
    return [...this.sessionTable.values()].map(copySession);
  }

  async deleteSession(clientId: string): Promise<void> {
    this.assertOpen();
    this.sessionTable.delete(clientId);
    for (const m of this.queues.get(clientId) ?? []) this.accounting.release(messageKey(clientId, m.seq));
    this.queues.delete(clientId);
  }

  async addMessage(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    this.assertOpen();
    const seq = this.nextSeq;
    const refused = this.accounting.reserve(messageKey(clientId, seq), storedBytes(message));
    if (refused !== undefined) {
      this.counters.refusedMessages++;
      return { stored: false, reason: refused };
    }
    this.nextSeq++;
    const queue = this.queues.get(clientId) ?? [];
    queue.push({
      clientId,
      seq,
      topicName: message.topicName,
      payload: message.payload.slice(),
      qos: message.qos,
      retain: message.retain,
    });
    this.queues.set(clientId, queue);
    return { stored: true, seq };
  }

  async deleteMessage(clientId: string, seq: number): Promise<void> {
    this.assertOpen();
    const queue = this.queues.get(clientId);
    if (queue === undefined) return;
    const index = queue.findIndex((m) => m.seq === seq);
    if (index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) this.queues.delete(clientId);
    this.accounting.release(messageKey(clientId, seq));
  }

  async messages(clientId: string): Promise<StoredMessage[]> {
    this.assertOpen();
    return (this.queues.get(clientId) ?? []).map((m) => ({ ...m, payload: m.payload.slice() }));
  }

  usage(): SessionStoreUsage {
    return { messages: this.accounting.messages, bytes: this.accounting.bytes, sessions: this.sessionTable.size };
  }

  private assertOpen(): void {
    if (!this.isOpen) throw new Error("session store is not open: call open() first");
  }
}
