import type { MemorySessionStore } from "../../../gateway/store/memory";
import type {
  AddMessageResult,
  NewStoredMessage,
  SessionStore,
  SessionStoreCounters,
  SessionStoreLimits,
  SessionStoreUsage,
  StoredMessage,
  StoredSession,
} from "../../../gateway/store/session-store";

/** A write the gateway has issued that has not reached the disk yet. */
interface PendingWrite {
  what: string;
  /** Applies the write to the disk; returns the value its promise resolves with. */
  apply: () => Promise<unknown>;
  resolve: (value: never) => void;
}

/**
 * One gateway process's view of a disk shared across restarts (a MemorySessionStore opened once).
 * Writes wait, in order, until the test lets the disk catch up (settle): only then do they reach the
 * disk and does the gateway hear that they are done, as with a write that is synced before its promise
 * resolves. crash() models kill -9: a prefix of the waiting writes reaches the disk (the process was
 * killed after the sync but before it went on), the rest is lost, and no promise of this process ever
 * settles again. Reads go straight to the disk: the gateway reads only while starting, when nothing waits.
 */
export class CrashableStore implements SessionStore {
  readonly location = "memory (crashable)";
  private readonly pending: PendingWrite[] = [];
  private dead = false;

  constructor(private readonly disk: MemorySessionStore) {}

  get limits(): SessionStoreLimits {
    return this.disk.limits;
  }

  get counters(): SessionStoreCounters {
    return this.disk.counters;
  }

  /** Writes issued and not yet on the disk. */
  get waiting(): number {
    return this.pending.length;
  }

  async open(): Promise<void> {
    if (this.dead) throw new Error("store used after its process was killed");
  }

  /** The gateway closing down: the disk stays open for the next process; writes still waiting are written. */
  async close(): Promise<void> {
    await this.settle(Infinity);
    this.dead = true;
  }

  putSession(session: StoredSession): Promise<boolean> {
    return this.write(`putSession ${session.clientId} ${session.state}`, () => this.disk.putSession(session));
  }

  getSession(clientId: string): Promise<StoredSession | undefined> {
    return this.read(() => this.disk.getSession(clientId));
  }

  sessions(): Promise<StoredSession[]> {
    return this.read(() => this.disk.sessions());
  }

  deleteSession(clientId: string): Promise<void> {
    return this.write(`deleteSession ${clientId}`, () => this.disk.deleteSession(clientId));
  }

  addMessage(clientId: string, message: NewStoredMessage): Promise<AddMessageResult> {
    // The caller may reuse its buffer once the call returns; a real store has copied it by then.
    const copy = { ...message, payload: message.payload.slice() };
    return this.write(`addMessage ${clientId}`, () => this.disk.addMessage(clientId, copy));
  }

  deleteMessage(clientId: string, seq: number): Promise<void> {
    return this.write(`deleteMessage ${clientId} ${seq}`, () => this.disk.deleteMessage(clientId, seq));
  }

  messages(clientId: string): Promise<StoredMessage[]> {
    return this.read(() => this.disk.messages(clientId));
  }

  usage(): SessionStoreUsage {
    return this.disk.usage();
  }

  /** Lets the first `count` waiting writes reach the disk, in order, and their promises resolve. */
  async settle(count: number): Promise<void> {
    for (let i = 0; i < count && this.pending.length > 0 && !this.dead; i++) {
      const w = this.pending.shift() as PendingWrite;
      w.resolve((await w.apply()) as never);
    }
  }

  /** kill -9: the first `persisted` waiting writes reach the disk unannounced, the others are lost. */
  async crash(persisted: number): Promise<string[]> {
    this.dead = true;
    const written = this.pending.splice(0, persisted);
    const lost = this.pending.splice(0).map((w) => w.what);
    for (const w of written) await w.apply();
    return lost;
  }

  private write<T>(what: string, apply: () => Promise<T>): Promise<T> {
    if (this.dead) return new Promise<T>(() => undefined);
    return new Promise<T>((resolve) => {
      this.pending.push({ what, apply, resolve: resolve as (value: never) => void });
    });
  }

  private read<T>(read: () => Promise<T>): Promise<T> {
    if (this.dead) return new Promise<T>(() => undefined);
    return read();
  }
}
