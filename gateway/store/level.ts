import { mkdir } from "node:fs/promises";
import type { ClassicLevel } from "classic-level";
import {
  DEVICE_PREFIX,
  MESSAGE_PREFIX,
  PARKED_PREFIX,
  SESSION_PREFIX,
  decodeDevice,
  decodeMessage,
  decodeSession,
  deviceKey,
  encodeDevice,
  encodeMessage,
  encodeSession,
  messageKey,
  messageRange,
  parseMessageKey,
  prefixRange,
  sessionKey,
} from "./records";
import {
  DEFAULT_STORE_LIMITS,
  DEFAULT_STORE_PATH,
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
 * The SessionStore on an embedded LevelDB (the classic-level package). Every write and delete is a
 * synchronous LevelDB write (fsync before the promise resolves), so what was acknowledged upstream
 * survives a SIGKILL or a power cut. One process at a time: LevelDB locks the directory.
 */
export class LevelSessionStore implements SessionStore, DeviceStore {
  readonly limits: SessionStoreLimits;
  readonly counters: SessionStoreCounters = { refusedMessages: 0, refusedSessions: 0, corrupt: 0 };
  /** Made by the first open(): a ClassicLevel opens itself (and takes the directory's lock) once constructed. */
  private handle: ClassicLevel<string, Uint8Array> | undefined;
  private readonly accounting: StoreAccounting;
  private readonly sessionIds = new Set<string>();
  private readonly deviceIds = new Set<string>();
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
    this.deviceIds.clear();
    const broken: string[] = [];
    for (const prefix of [MESSAGE_PREFIX, PARKED_PREFIX]) {
      for await (const [key, value] of this.db.iterator(prefixRange(prefix))) {
        const parsed = parseMessageKey(key);
        const message = decodeMessage(value);
        if (parsed === undefined || message === undefined) {
          broken.push(key);
          continue;
        }
        this.accounting.track(key, storedBytes(message));
        this.nextSeq = Math.max(this.nextSeq, parsed.seq + 1);
      }
    }
    for await (const [key, value] of this.db.iterator(prefixRange(DEVICE_PREFIX))) {
      const device = decodeDevice(value);
      if (device === undefined || deviceKey(device.clientId) !== key) {
        broken.push(key);
        continue;
      }
      this.deviceIds.add(device.clientId);
    }
    for await (const [key, value] of this.db.iterator(prefixRange(SESSION_PREFIX))) {
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
    for await (const value of this.db.values(prefixRange(SESSION_PREFIX))) {
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

  addMessage(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    return this.add(MESSAGE_PREFIX, clientId, message);
  }

  deleteMessage(clientId: string, seq: number): Promise<void> {
    return this.delete(MESSAGE_PREFIX, clientId, seq);
  }

  messages(clientId: string): Promise<StoredMessage[]> {
    return this.list(MESSAGE_PREFIX, clientId);
  }

  private async add(prefix: string, clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    const seq = this.nextSeq;
    const key = messageKey(clientId, seq, prefix);
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

  private async delete(prefix: string, clientId: string, seq: number): Promise<void> {
    const key = messageKey(clientId, seq, prefix);
    if (!this.accounting.has(key)) return;
    await this.db.del(key, { sync: true });
    this.accounting.release(key);
  }

  private async list(prefix: string, clientId: string): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for await (const [key, value] of this.db.iterator(messageRange(clientId, prefix))) {
      const parsed = parseMessageKey(key);
      const message = decodeMessage(value);
      if (parsed !== undefined && message !== undefined) out.push({ ...message, clientId, seq: parsed.seq });
    }
    return out;
  }

  async putDevice(device: StoredDevice): Promise<boolean> {
    const isNew = !this.deviceIds.has(device.clientId);
    if (isNew && this.deviceIds.size >= this.limits.maxSessions) {
      this.counters.refusedSessions++;
      return false;
    }
    if (isNew) this.deviceIds.add(device.clientId);
    try {
      await this.db.put(deviceKey(device.clientId), encodeDevice(device), { sync: true });
    } catch (err) {
      if (isNew) this.deviceIds.delete(device.clientId);
      throw err;
    }
    return true;
  }

  async deleteDevice(clientId: string): Promise<void> {
    const keys: string[] = [];
    for await (const key of this.db.keys(messageRange(clientId, PARKED_PREFIX))) keys.push(key);
    await this.db.batch(
      [deviceKey(clientId), ...keys].map((key) => ({ type: "del" as const, key })),
      { sync: true },
    );
    this.deviceIds.delete(clientId);
    for (const key of keys) this.accounting.release(key);
  }

  async devices(): Promise<StoredDevice[]> {
    const out: StoredDevice[] = [];
    for await (const value of this.db.values(prefixRange(DEVICE_PREFIX))) {
      const device = decodeDevice(value);
      if (device !== undefined) out.push(device);
    }
    return out;
  }

  addParked(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    return this.add(PARKED_PREFIX, clientId, message);
  }

  deleteParked(clientId: string, seq: number): Promise<void> {
    return this.delete(PARKED_PREFIX, clientId, seq);
  }

  parked(clientId: string): Promise<StoredMessage[]> {
    return this.list(PARKED_PREFIX, clientId);
  }

  usage(): SessionStoreUsage {
    return { messages: this.accounting.messages, bytes: this.accounting.bytes, sessions: this.sessionIds.size };
  }
}
