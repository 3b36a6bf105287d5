import { accessSync, constants, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type {
  AddMessageResult,
  DeviceStore,
  NewStoredMessage,
  SessionStore,
  SessionStoreUsage,
  StoredDevice,
  StoredMessage,
  StoredSession,
} from "./session-store";

/**
 * A SessionStore opened on first use: a gateway that never has a sleeping persistent client never takes
 * the store's lock (so gateways without sleepers, tests among them, can share a working directory).
 * A failed open is reported to that caller and tried again on the next use.
 */
export class LazySessionStore implements SessionStore, DeviceStore {
  private opening: Promise<void> | undefined;
  private isOpen = false;

  constructor(private readonly inner: SessionStore & DeviceStore) {}

  get location(): string {
    return this.inner.location;
  }

  get limits(): SessionStore["limits"] {
    return this.inner.limits;
  }

  get counters(): SessionStore["counters"] {
    return this.inner.counters;
  }

  /** Whether the store has been opened (by open() or a first use). */
  get opened(): boolean {
    return this.isOpen;
  }

  open(): Promise<void> {
    if (this.opening === undefined) {
      this.opening = this.inner.open().then(
        () => {
          this.isOpen = true;
        },
        (err: unknown) => {
          this.opening = undefined;
          throw err;
        },
      );
    }
    return this.opening;
  }

  async close(): Promise<void> {
    if (this.opening === undefined) return;
    await this.opening.catch(() => undefined);
    this.opening = undefined;
    if (!this.isOpen) return;
    this.isOpen = false;
    await this.inner.close();
  }

  async putSession(session: StoredSession): Promise<boolean> {
    await this.open();
    return this.inner.putSession(session);
  }

  async getSession(clientId: string): Promise<StoredSession | undefined> {
    await this.open();
    return this.inner.getSession(clientId);
  }

  async sessions(): Promise<StoredSession[]> {
    await this.open();
    return this.inner.sessions();
  }

  async deleteSession(clientId: string): Promise<void> {
    await this.open();
    return this.inner.deleteSession(clientId);
  }

  async addMessage(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    await this.open();
    return this.inner.addMessage(clientId, message);
  }

  async deleteMessage(clientId: string, seq: number): Promise<void> {
    await this.open();
    return this.inner.deleteMessage(clientId, seq);
  }

  async messages(clientId: string): Promise<StoredMessage[]> {
    await this.open();
    return this.inner.messages(clientId);
  }

  async putDevice(device: StoredDevice): Promise<boolean> {
    await this.open();
    return this.inner.putDevice(device);
  }

  async deleteDevice(clientId: string): Promise<void> {
    await this.open();
    return this.inner.deleteDevice(clientId);
  }

  async devices(): Promise<StoredDevice[]> {
    await this.open();
    return this.inner.devices();
  }

  async addParked(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    await this.open();
    return this.inner.addParked(clientId, message);
  }

  async deleteParked(clientId: string, seq: number): Promise<void> {
    await this.open();
    return this.inner.deleteParked(clientId, seq);
  }

  async parked(clientId: string): Promise<StoredMessage[]> {
    await this.open();
    return this.inner.parked(clientId);
  }

  usage(): SessionStoreUsage {
    return this.isOpen ? this.inner.usage() : { messages: 0, bytes: 0, sessions: 0 };
  }
}

/**
 * Checks at start-up that a store directory can be used: it exists (then it is opened at once, to resume
 * its sessions: the answer is true), or the nearest existing parent is writable (false). Throws with what
 * to do otherwise.
 */
export function storePathExists(path: string): boolean {
  if (existsSync(path)) return true;
  let dir = resolve(path);
  while (!existsSync(dir)) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(
      `sleep.store.path ${path}: ${dir} is not writable, so the session store cannot be created there; give a writable directory, or "" to keep sleeping sessions in memory only`,
    );
  }
  return false;
}
