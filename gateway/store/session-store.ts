/**
 * The durable store behind the restart guarantee for sleeping clients (§7).
 *
 * Why a store and not "acknowledge upstream only once the client has acknowledged": MQTT.js handles
 * incoming packets strictly one after another, so holding back one PUBACK until a sleeping client
 * wakes would hold back every later packet of that upstream connection, PINGRESP included. Instead a
 * QoS 1/2 message for a sleeping client with a persistent session (CleanSession 0) is written to this
 * store, synced to disk, and only then acknowledged upstream; it is deleted once the client has
 * acknowledged it (PUBACK, or PUBCOMP for QoS 2). When the store is full it refuses the write and the
 * gateway leaves the message unacknowledged upstream, so the broker keeps it.
 *
 * The store also keeps what the gateway needs to resume such a session after a restart: the client's
 * state, sleep duration, address, subscriptions, topic ids and will.
 */

export type StoredQoS = 1 | 2;

export interface NewStoredMessage {
  topicName: string;
  payload: Uint8Array;
  qos: StoredQoS;
  retain: boolean;
}

export interface StoredMessage extends NewStoredMessage {
  clientId: string;
  /** Assigned by the store, increasing in arrival order across the whole store. */
  seq: number;
}

export interface StoredSubscription {
  topicFilter: string;
  qos: 0 | 1 | 2;
}

export interface StoredTopicId {
  topicName: string;
  topicId: number;
}

export interface StoredWill {
  topicName: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** §7 states a persistent session can be resumed in. */
export type StoredState = "active" | "asleep" | "awake";

export interface StoredSession {
  clientId: string;
  state: StoredState;
  /** Sleep duration in seconds from DISCONNECT, §5.4.21 (0 when not asleep). */
  duration: number;
  /** Keep-alive in seconds from CONNECT. */
  keepAlive: number;
  /** When the client was last heard, in ms since the epoch: sleep supervision runs from here. */
  lastHeardAt: number;
  /** Link name (Link.name) and address on that link where the client was last heard. */
  link: string;
  address: string;
  subscriptions: StoredSubscription[];
  /** Topic ids the client knows (registered either way); predefined ids are not stored. */
  topicIds: StoredTopicId[];
  will?: StoredWill;
}

export interface SessionStoreLimits {
  /** Messages held at most, over all clients. */
  maxMessages: number;
  /** Octets held at most, over all clients: topic name (UTF-8) plus payload of each message. */
  maxBytes: number;
  /** Session records held at most. */
  maxSessions: number;
}

export type AddMessageResult = { stored: true; seq: number } | { stored: false; reason: "messages" | "bytes" };

export interface SessionStoreUsage {
  messages: number;
  bytes: number;
  sessions: number;
}

export interface SessionStoreCounters {
  /** Messages refused because the store was full. */
  refusedMessages: number;
  /** New session records refused because maxSessions was reached. */
  refusedSessions: number;
  /** Records found unreadable when the store was opened; skipped and deleted. */
  corrupt: number;
}

export interface SessionStore {
  /** Where the data lives: a directory, or "memory". */
  readonly location: string;
  readonly limits: SessionStoreLimits;
  readonly counters: SessionStoreCounters;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Writes or replaces a session record, durably. False (and counted) when it is new and maxSessions is reached. */
  putSession(session: StoredSession): Promise<boolean>;
  getSession(clientId: string): Promise<StoredSession | undefined>;
  /** Every session record, in no particular order. */
  sessions(): Promise<StoredSession[]>;
  /** Deletes the session record and every message held for the client. */
  deleteSession(clientId: string): Promise<void>;
  /** Writes a message durably (synced before the promise resolves), or refuses it when the store is full. */
  addMessage(clientId: string, message: NewStoredMessage): Promise<AddMessageResult>;
  /** Deletes one message once the client has acknowledged it; unknown ones are ignored. */
  deleteMessage(clientId: string, seq: number): Promise<void>;
  /** The client's messages, in arrival order. */
  messages(clientId: string): Promise<StoredMessage[]>;
  usage(): SessionStoreUsage;
}

/**
 * What aggregating mode keeps of a device with a persistent session (CleanSession 0), which in transparent
 * mode the broker keeps: its subscriptions and will, and whether it had a connection open (a restart then
 * publishes its will, as the broker does for a connection that drops). A clean device is recorded only
 * while it has a will and a connection, for that reason alone.
 */
export interface StoredDevice {
  clientId: string;
  persistent: boolean;
  subscriptions: StoredSubscription[];
  will?: StoredWill;
  connected: boolean;
}

/**
 * Aggregating mode's records beside the sessions, in the same store and under the same limits: devices, and
 * the QoS 1/2 messages "parked" for a device while it has no connection open (acknowledged to the broker
 * only once written).
 */
export interface DeviceStore {
  /** Writes or replaces a device record, durably; false (counted) when it is new and maxSessions is reached. */
  putDevice(device: StoredDevice): Promise<boolean>;
  /** Deletes the device record and its parked messages. */
  deleteDevice(clientId: string): Promise<void>;
  devices(): Promise<StoredDevice[]>;
  addParked(clientId: string, message: NewStoredMessage): Promise<AddMessageResult>;
  deleteParked(clientId: string, seq: number): Promise<void>;
  /** The device's parked messages, in arrival order. */
  parked(clientId: string): Promise<StoredMessage[]>;
}

/** Default directory of the store, relative to the gateway's working directory (.data/ is git-ignored). */
export const DEFAULT_STORE_PATH = "./.data/sessions";

export const DEFAULT_STORE_LIMITS: SessionStoreLimits = {
  maxMessages: 100_000,
  maxBytes: 64 * 1024 * 1024,
  maxSessions: 10_000,
};

const utf8 = new TextEncoder();

/** Octets a message counts against maxBytes. */
export function storedBytes(message: Pick<NewStoredMessage, "topicName" | "payload">): number {
  return utf8.encode(message.topicName).length + message.payload.length;
}

/**
 * Usage bookkeeping shared by the implementations: reserves room before a write starts, so that
 * concurrent writes can never overshoot the limits together.
 */
export class StoreAccounting {
  messages = 0;
  bytes = 0;
  private readonly sizes = new Map<string, number>();

  constructor(private readonly limits: SessionStoreLimits) {}

  /** Reserves room for a message, or names the limit that would be passed. */
  reserve(key: string, size: number): "messages" | "bytes" | undefined {
    if (this.messages + 1 > this.limits.maxMessages) return "messages";
    if (this.bytes + size > this.limits.maxBytes) return "bytes";
    this.track(key, size);
    return undefined;
  }

  /** Counts a message found on disk at open time, whatever the limits (they may have been lowered). */
  track(key: string, size: number): void {
    this.sizes.set(key, size);
    this.messages++;
    this.bytes += size;
  }

  has(key: string): boolean {
    return this.sizes.has(key);
  }

  release(key: string): void {
    const size = this.sizes.get(key);
    if (size === undefined) return;
    this.sizes.delete(key);
    this.messages--;
    this.bytes -= size;
  }

  clear(): void {
    this.sizes.clear();
    this.messages = 0;
    this.bytes = 0;
  }
}

export function checkLimits(limits: SessionStoreLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`session store limit ${name} must be an integer of at least 1, got ${String(value)}`);
  }
}
