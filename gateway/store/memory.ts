import { MESSAGE_PREFIX, PARKED_PREFIX, copyDevice, copySession, messageKey } from "./records";
import {
  DEFAULT_STORE_LIMITS,
  StoreAccounting,
  checkLimits,
  storedBytes,
  type AddMessageResult,
  type DeviceStore,
  type NewStoredMessage,
  type SessionStore,
  type SessionStoreCounters,
  type SessionStoreLimits,
  type SessionStoreUsage,
  type StoredDevice,
  type StoredMessage,
  type StoredSession,
} from "./session-store";

/**
 * A SessionStore in memory: same rules and limits as the LevelDB one, nothing survives the process.
 * For unit tests and for gateways run without a store path. Data survives close() and open() of the
 * same instance.
 */
export class MemorySessionStore implements SessionStore, DeviceStore {
  readonly location = "memory";
  readonly limits: SessionStoreLimits;
  readonly counters: SessionStoreCounters = { refusedMessages: 0, refusedSessions: 0, corrupt: 0 };
  private readonly sessionTable = new Map<string, StoredSession>();
  /** Per client, its messages in arrival order. */
  private readonly queues = new Map<string, StoredMessage[]>();
  private readonly deviceTable = new Map<string, StoredDevice>();
  /** Per device, its parked messages in arrival order. */
  private readonly parkedQueues = new Map<string, StoredMessage[]>();
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
    this.dropQueue(this.queues, MESSAGE_PREFIX, clientId);
  }

  async addMessage(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    return this.add(this.queues, MESSAGE_PREFIX, clientId, message);
  }

  async deleteMessage(clientId: string, seq: number): Promise<void> {
    this.delete(this.queues, MESSAGE_PREFIX, clientId, seq);
  }

  async messages(clientId: string): Promise<StoredMessage[]> {
    return this.list(this.queues, clientId);
  }

  async putDevice(device: StoredDevice): Promise<boolean> {
    this.assertOpen();
    if (!this.deviceTable.has(device.clientId) && this.deviceTable.size >= this.limits.maxSessions) {
      this.counters.refusedSessions++;
      return false;
    }
    this.deviceTable.set(device.clientId, copyDevice(device));
    return true;
  }

  async deleteDevice(clientId: string): Promise<void> {
    this.assertOpen();
    this.deviceTable.delete(clientId);
    this.dropQueue(this.parkedQueues, PARKED_PREFIX, clientId);
  }

  async devices(): Promise<StoredDevice[]> {
    this.assertOpen();
    return [...this.deviceTable.values()].map(copyDevice);
  }

  async addParked(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    return this.add(this.parkedQueues, PARKED_PREFIX, clientId, message);
  }

  async deleteParked(clientId: string, seq: number): Promise<void> {
    this.delete(this.parkedQueues, PARKED_PREFIX, clientId, seq);
  }

  async parked(clientId: string): Promise<StoredMessage[]> {
    return this.list(this.parkedQueues, clientId);
  }

  private add(
    queues: Map<string, StoredMessage[]>,
    prefix: string,
    clientId: string,
    message: NewStoredMessage,
  ): AddMessageResult {
    this.assertOpen();
    const seq = this.nextSeq;
    const refused = this.accounting.reserve(messageKey(clientId, seq, prefix), storedBytes(message));
    if (refused !== undefined) {
      this.counters.refusedMessages++;
      return { stored: false, reason: refused };
    }
    this.nextSeq++;
    const queue = queues.get(clientId) ?? [];
    queue.push({
      clientId,
      seq,
      topicName: message.topicName,
      payload: message.payload.slice(),
      qos: message.qos,
      retain: message.retain,
    });
    queues.set(clientId, queue);
    return { stored: true, seq };
  }

  private delete(queues: Map<string, StoredMessage[]>, prefix: string, clientId: string, seq: number): void {
    this.assertOpen();
    const queue = queues.get(clientId);
    if (queue === undefined) return;
    const index = queue.findIndex((m) => m.seq === seq);
    if (index < 0) return;
    queue.splice(index, 1);
    if (queue.length === 0) queues.delete(clientId);
    this.accounting.release(messageKey(clientId, seq, prefix));
  }

  private list(queues: Map<string, StoredMessage[]>, clientId: string): StoredMessage[] {
    this.assertOpen();
    return (queues.get(clientId) ?? []).map((m) => ({ ...m, payload: m.payload.slice() }));
  }

  private dropQueue(queues: Map<string, StoredMessage[]>, prefix: string, clientId: string): void {
    for (const m of queues.get(clientId) ?? []) this.accounting.release(messageKey(clientId, m.seq, prefix));
    queues.delete(clientId);
  }

  usage(): SessionStoreUsage {
    return { messages: this.accounting.messages, bytes: this.accounting.bytes, sessions: this.sessionTable.size };
  }

  private assertOpen(): void {
    if (!this.isOpen) throw new Error("session store is not open: call open() first");
  }
}
