/**
 * The per-client sleep buffer, §7 (§6.14 of the specification): what arrives for a sleeping client is
 * kept here, in arrival order, until the client wakes (PINGREQ with its client id) or reconnects.
 *
 * Bounded in messages and in octets. Policy when full:
 * - the oldest QoS 0 message in the buffer is dropped first, as often as needed to make room;
 * - a QoS 0 message that still does not fit is itself dropped;
 * - a QoS 1 or 2 message is never dropped: when it cannot be kept (even after dropping every QoS 0
 *   message) the buffer refuses it and keeps everything it held; the caller then leaves the message
 *   unacknowledged upstream, so the broker keeps it in the client's persistent session.
 * Every drop and every refusal is counted here and reported to the caller, which logs it.
 */

export type BufferedQoS = 0 | 1 | 2;

export interface BufferedMessage {
  topicName: string;
  payload: Uint8Array;
  qos: BufferedQoS;
  retain: boolean;
  /** Key of the durable copy (gateway/store) for QoS 1/2 messages of persistent sessions. */
  storeSeq?: number;
}

export interface SleepBufferLimits {
  /** Messages held at most per client. */
  maxMessages: number;
  /** Octets held at most per client: topic name (UTF-8) plus payload, summed over the messages. */
  maxBytes: number;
}

export type OfferResult<T extends BufferedMessage = BufferedMessage> =
  /** Kept; `dropped` lists the QoS 0 messages dropped to make room (oldest first, possibly none). */
  | { kept: true; dropped: T[] }
  /** Not kept. QoS 0: dropped (counted in `dropped`). QoS 1/2: refused (counted in `refused`). */
  | { kept: false; reason: "messages" | "bytes"; dropped: T[] };

export interface SleepBufferCounters {
  /** QoS 0 messages dropped (buffered ones evicted and new ones that did not fit). */
  dropped: number;
  /** QoS 1/2 messages refused because the buffer was full. */
  refused: number;
}

const NONE: readonly never[] = [];

/** Octets a message counts against maxBytes. */
export function messageBytes(message: Pick<BufferedMessage, "topicName" | "payload">): number {
  return Buffer.byteLength(message.topicName) + message.payload.length;
}

/** Holds BufferedMessage records, or the caller's own records that extend it (e.g. with an acknowledgement). */
export class SleepBuffer<T extends BufferedMessage = BufferedMessage> {
  /** Made at the first message: most clients never sleep. */
  private queue: T[] | undefined;
  private held = 0;
  private dropped = 0;
  private refused = 0;

  constructor(readonly limits: SleepBufferLimits) {
    if (!(limits.maxMessages >= 1) || !(limits.maxBytes >= 1)) {
      throw new RangeError(
        `sleep buffer limits must be at least 1 (maxMessages ${limits.maxMessages}, maxBytes ${limits.maxBytes})`,
      );
    }
  }

  get counters(): SleepBufferCounters {
    return { dropped: this.dropped, refused: this.refused };
  }

  get length(): number {
    return this.queue === undefined ? 0 : this.queue.length;
  }

  /** Octets held, as counted against maxBytes. */
  get bytes(): number {
    return this.held;
  }

  /** Offers a message that arrived while the client sleeps; see the policy at the top of this file. */
  offer(message: T): OfferResult<T> {
    const size = messageBytes(message);
    const limitHit = this.limitHit(this.length + 1, this.held + size);
    if (limitHit === undefined) {
      this.push(message, size);
      return { kept: true, dropped: [] };
    }
    if (!this.fitsAfterDroppingQoS0(size)) {
      if (message.qos === 0) this.dropped++;
      else this.refused++;
      return { kept: false, reason: limitHit, dropped: message.qos === 0 ? [message] : [] };
    }
    const dropped: T[] = [];
    while (this.limitHit(this.length + 1, this.held + size) !== undefined) {
      const index = this.toArray().findIndex((m) => m.qos === 0);
      dropped.push(this.removeAt(index));
      this.dropped++;
    }
    this.push(message, size);
    return { kept: true, dropped };
  }

  /** The oldest message, left in place. */
  peek(): T | undefined {
    return this.queue?.[0];
  }

  /** Removes and returns the oldest message. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    return this.removeAt(0);
  }

  /**
   * Puts a message admitted earlier back at the head (a delivery whose exchange with the client was cut
   * short): it was counted when it came, so it goes back whatever the limits now say.
   */
  putBack(message: T): void {
    const size = messageBytes(message);
    (this.queue ??= []).unshift(message);
    this.held += size;
  }

  /** Removes and returns the messages matching `predicate`, oldest first; the others keep their order. */
  removeWhere(predicate: (message: T) => boolean): T[] {
    const removed: T[] = [];
    for (let i = 0; i < this.length;) {
      if (predicate(this.queue![i]!)) removed.push(this.removeAt(i));
      else i++;
    }
    return removed;
  }

  /** The messages, oldest first, left in place. */
  toArray(): readonly T[] {
    return this.queue ?? NONE;
  }

  /** Removes and returns every message, oldest first. */
  drain(): T[] {
    const all = this.queue ?? [];
    this.queue = undefined;
    this.held = 0;
    return all;
  }

  private limitHit(count: number, bytes: number): "messages" | "bytes" | undefined {
    if (count > this.limits.maxMessages) return "messages";
    if (bytes > this.limits.maxBytes) return "bytes";
    return undefined;
  }

  /** Whether the message fits once every QoS 0 message (and only as many as needed) is gone. */
  private fitsAfterDroppingQoS0(size: number): boolean {
    if (size > this.limits.maxBytes) return false;
    const queue = this.toArray();
    let count = queue.length + 1;
    let bytes = this.held + size;
    for (let i = 0; i < queue.length && this.limitHit(count, bytes) !== undefined; i++) {
      const m = queue[i]!;
      if (m.qos !== 0) continue;
      count--;
      bytes -= messageBytes(m);
    }
    return this.limitHit(count, bytes) === undefined;
  }

  private push(message: T, size: number): void {
    (this.queue ??= []).push(message);
    this.held += size;
  }

  private removeAt(index: number): T {
    const message = this.queue!.splice(index, 1)[0]!;
    this.held -= messageBytes(message);
    return message;
  }
}

/** Global limits plus per-client-id overrides (an override may set one limit and inherit the other). */
export interface SleepLimitsConfig {
  maxMessages: number;
  maxBytes: number;
  clients: Record<string, Partial<SleepBufferLimits>>;
}

/** Most clients have no limits of their own: their buffers share one object per config. */
const defaults = new WeakMap<SleepLimitsConfig, SleepBufferLimits>();

function defaultsOf(config: SleepLimitsConfig): SleepBufferLimits {
  let limits = defaults.get(config);
  if (limits === undefined) {
    limits = { maxMessages: config.maxMessages, maxBytes: config.maxBytes };
    defaults.set(config, limits);
  }
  return limits;
}

export function limitsFor(config: SleepLimitsConfig, clientId: string): SleepBufferLimits {
  const own = Object.hasOwn(config.clients, clientId) ? config.clients[clientId] : undefined;
  if (own === undefined) return defaultsOf(config);
  return {
    maxMessages: own.maxMessages ?? config.maxMessages,
    maxBytes: own.maxBytes ?? config.maxBytes,
  };
}
