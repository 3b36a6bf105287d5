import { mkdir } from "node:fs/promises";
import type { ClassicLevel } from "classic-level";
import {
  MESSAGE_PREFIX,
  SESSION_PREFIX,
  decodeMessage,
  decodeSession,
  encodeMessage,
  encodeSession,
  messageKey,
  messageRange,
  parseMessageKey,
  sessionKey,
} from "./records";
import {
  DEFAULT_STORE_LIMITS,
  DEFAULT_STORE_PATH,
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
 * The SessionStore on an embedded LevelDB (the classic-level package). Every write and delete is a
 * synchronous LevelDB write (fsync before the promise resolves), so what was acknowledged upstream
 * survives a SIGKILL or a power cut. One process at a time: LevelDB locks the directory.
 */
export class LevelSessionStore implements SessionStore {
  readonly limits: SessionStoreLimits;
  readonly counters: SessionStoreCounters = { refusedMessages: 0, refusedSessions: 0, corrupt: 0 };
  /** Made by the first open(): a ClassicLevel opens itself (and takes the directory's lock) once constructed. */
  private handle: ClassicLevel<string, Uint8Array> | undefined;
  private readonly accounting: StoreAccounting;
  private readonly sessionIds = new Set<string>();
  private nextSeq = 1;

  constructor(
    readonly location: string = DEFAULT_STORE_PATH,
    limits: Partial<SessionStoreLimits> = {},
  ) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...limits };
    checkLimits(this.limits);
    this.accounting = new StoreAccounting(this.limits);
  }

  private get db(): ClassicLevel<string, Uint8Array> {
    if (this.handle === undefined) throw new Error(`the session store at ${this.location} is used before open()`);
    return this.handle;
  }

  /** Opens (creating it if needed) the store and counts what it holds; unreadable records are deleted and counted. */
  async open(): Promise<void> {
    try {
      await mkdir(this.location, { recursive: true });
      // Loaded here, not at start: a gateway that never needs the store never loads the native module.
      const { ClassicLevel } = await import("classic-level");
      this.handle ??= new ClassicLevel<string, Uint8Array>(this.location, {
        keyEncoding: "utf8",
        valueEncoding: "view",
      });
      await this.handle.open({ createIfMissing: true });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      const hint =
        cause?.code === "LEVEL_LOCKED"
          ? "another process (a second gateway?) holds it: stop that process or give this gateway another store path"
          : "check that the directory is writable, or give the gateway another store path";
      const error = new Error(`cannot open the session store at ${this.location}: ${(err as Error).message}; ${hint}`, {
        cause: err,
      });
      if (cause?.code === "LEVEL_LOCKED") (error as Error & { code: string }).code = "STORE_LOCKED";
      throw error;
    }
    this.accounting.clear();
    this.sessionIds.clear();
    const broken: string[] = [];
    for await (const [key, value] of this.db.iterator({ gte: MESSAGE_PREFIX, lt: MESSAGE_PREFIX.slice(0, -1) + '"' })) {
      const parsed = parseMessageKey(key);
      const message = decodeMessage(value);
      if (parsed === undefined || message === undefined) {
        broken.push(key);
        continue;
      }
      this.accounting.track(key, storedBytes(message));
      this.nextSeq = Math.max(this.nextSeq, parsed.seq + 1);
    }
    for await (const [key, value] of this.db.iterator({ gte: SESSION_PREFIX, lt: SESSION_PREFIX.slice(0, -1) + '"' })) {
      const session = decodeSession(value);
      if (session === undefined || sessionKey(session.clientId) !== key) {
        broken.push(key);
        continue;
      }
      this.sessionIds.add(session.clientId);
    }
    if (broken.length > 0) {
      this.counters.corrupt += broken.length;
      await this.db.batch(
        broken.map((key) => ({ type: "del" as const, key })),
        { sync: true },
      );
    }
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }

  async putSession(session: StoredSession): Promise<boolean> {
    const isNew = !this.sessionIds.has(session.clientId);
    if (isNew && this.sessionIds.size >= this.limits.maxSessions) {
      this.counters.refusedSessions++;
      return false;
    }
    if (isNew) this.sessionIds.add(session.clientId);
    try {
      await this.db.put(sessionKey(session.clientId), encodeSession(session), { sync: true });
    } catch (err) {
      if (isNew) this.sessionIds.delete(session.clientId);
      throw err;
    }
    return true;
  }

  async getSession(clientId: string): Promise<StoredSession | undefined> {
    const value = await this.db.get(sessionKey(clientId));
    return value === undefined ? undefined : decodeSession(value);
  }

  async sessions(): Promise<StoredSession[]> {
    const out: StoredSession[] = [];
    for await (const value of this.db.values({ gte: SESSION_PREFIX, lt: SESSION_PREFIX.slice(0, -1) + '"' })) {
      const session = decodeSession(value);
      if (session !== undefined) out.push(session);
    }
    return out;
  }

  async deleteSession(clientId: string): Promise<void> {
    const keys: string[] = [];
    for await (const key of this.db.keys(messageRange(clientId))) keys.push(key);
    await this.db.batch(
      [sessionKey(clientId), ...keys].map((key) => ({ type: "del" as const, key })),
      { sync: true },
    );
    this.sessionIds.delete(clientId);
    for (const key of keys) this.accounting.release(key);
  }

  async addMessage(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    const seq = this.nextSeq;
    const key = messageKey(clientId, seq);
    const refused = this.accounting.reserve(key, storedBytes(message));
    if (refused !== undefined) {
      this.counters.refusedMessages++;
      return { stored: false, reason: refused };
    }
    this.nextSeq++;
    try {
      await this.db.put(key, encodeMessage(message), { sync: true });
    } catch (err) {
      this.accounting.release(key);
      throw err;
    }
    return { stored: true, seq };
  }

  async deleteMessage(clientId: string, seq: number): Promise<void> {
    const key = messageKey(clientId, seq);
    if (!this.accounting.has(key)) return;
    await this.db.del(key, { sync: true });
    this.accounting.release(key);
  }

  async messages(clientId: string): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for await (const [key, value] of this.db.iterator(messageRange(clientId))) {
      const parsed = parseMessageKey(key);
      const message = decodeMessage(value);
      if (parsed !== undefined && message !== undefined) out.push({ ...message, clientId, seq: parsed.seq });
    }
    return out;
  }

  usage(): SessionStoreUsage {
    return { messages: this.accounting.messages, bytes: this.accounting.bytes, sessions: this.sessionIds.size };
  }
}
