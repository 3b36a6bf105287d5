import { LazySet } from "../../lazy-collections";
import type { Will } from "../../session/types";
import type { UpstreamSession, UpstreamSink } from "../upstream";
import { settle, type Device, type Held, type Shares } from "./device";
import type { PoolMember } from "./pool-member";

/** Retained messages for a new subscription are taken as arriving within this long after its SUBACK. */
export const RETAINED_WINDOW_MS = 2000;

export type AggregatedDevice = Device<AggregatedSession>;

/** What a device's connection needs from the adapter that holds every device. */
export interface DeviceHost {
  member(device: AggregatedDevice): PoolMember<AggregatedDevice>;
  /**
   * Keeps a QoS 1/2 message for a device with no connection open, after the others (or before them: first),
   * and settles its share once it is kept (in the durable store when there is one); dropped (counted,
   * logged) when the bounds are reached.
   */
  park(device: AggregatedDevice, held: Held, first: boolean): void;
  /** The device's session has a message in custody: a parked copy goes (from the list and the store). */
  unpark(device: AggregatedDevice, held: Held): void;
  /** Writes what is to survive a restart of the device (subscriptions, will, whether connected). */
  record(device: AggregatedDevice, connected: boolean): void;
  /** A persistent device without a connection now, kept for its next CONNECT (bounded). */
  away(device: AggregatedDevice): void;
  /** Takes every parked message of the device, in order. */
  takeParked(device: AggregatedDevice): Held[];
  /** Publishes the device's will: it was lost (MQTT 3.1.1 §3.1.2.5, as the broker would). */
  publishWill(device: AggregatedDevice): void;
  /** A device whose connection ended without a persistent session: its subscriptions go. */
  forget(device: AggregatedDevice): void;
  now(): number;
  readonly connectTimeoutMs: number;
}

/**
 * One device's connection through a shared connection (aggregating mode), as the session sees an upstream
 * connection: connecting until the shared connection is open, then open; closed at close(). The device's
 * subscriptions, will and parked messages live in its Device record, which outlives the connection for a
 * persistent session.
 */
export class AggregatedSession implements UpstreamSession {
  private phase: "connecting" | "open" | "closed" = "connecting";
  private readonly pending: Set<Held> = new LazySet();
  private connectTimer: NodeJS.Timeout | undefined;
  /** close() was called: it ends the session once, also after a failed connect had closed it. */
  private closeCalled = false;

  constructor(
    private readonly host: DeviceHost,
    private readonly device: AggregatedDevice,
    private readonly sink: UpstreamSink,
  ) {
    this.connectTimer = setTimeout(() => {
      if (this.phase !== "connecting") return;
      this.end();
      this.sink.connack(false, false);
    }, host.connectTimeoutMs);
    this.connectTimer.unref();
    this.member.whenOpen((c) => {
      if (this.phase !== "connecting") return;
      if (c === undefined) {
        this.end();
        this.sink.connack(false, false);
        return;
      }
      this.phase = "open";
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
      this.sink.connack(true, false);
      this.deliverParked();
    });
  }

  /** The shared connection carrying it was lost: the session hears it as its own connection closing. */
  lost(): void {
    if (this.phase !== "open") return;
    this.sink.closed();
  }

  /** Whether a message is with this session, not yet in its custody. */
  holds(held: Held): boolean {
    return this.pending.has(held);
  }

  get current(): "connecting" | "open" | "closed" {
    return this.phase;
  }

  private get member(): PoolMember<AggregatedDevice> {
    return this.host.member(this.device);
  }

  /** A broker message for this device; on a connection not (or no longer) open it is parked or dropped. */
  deliver(
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    retain: boolean,
    share: Shares | undefined,
    packetId: number,
    dup: boolean,
  ): void {
    if (qos === 0) {
      if (this.phase === "open") this.sink.message(topic, payload, 0, retain, undefined);
      return;
    }
    const persistent = this.device.persistent;
    const held: Held = { topic, payload: persistent ? new Uint8Array(payload) : payload, qos, retain, share };
    if (this.phase !== "open") {
      this.parkOrDrop(held);
      return;
    }
    if (!persistent) {
      // A clean session's messages end with its connection whatever happens: the broker may forget it now.
      settle(held);
      this.sink.message(topic, payload, qos, retain, () => undefined, qos === 2 ? packetId : undefined, dup);
      return;
    }
    this.pending.add(held);
    this.sink.message(topic, payload, qos, retain, () => this.release(held), qos === 2 ? packetId : undefined, dup);
  }

  /** The device's session has the message in custody (delivered, or in the store). */
  private release(held: Held): void {
    if (this.pending.delete(held)) settle(held);
    this.host.unpark(this.device, held);
  }

  private parkOrDrop(held: Held): void {
    if (this.device.persistent) this.host.park(this.device, held, false);
    else settle(held);
  }

  /** What arrived while the device had no connection open, delivered now (MQTT 3.1.1 §3.1.2.4). */
  private deliverParked(): void {
    for (const held of this.host.takeParked(this.device)) {
      this.pending.add(held);
      this.sink.message(held.topic, held.payload, held.qos, held.retain, () => this.release(held));
    }
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean, msgId: number): boolean {
    if (this.phase === "closed") {
      if (qos === 0) return false;
      this.sink.published(msgId, false);
      return true;
    }
    const open = this.member.shared.current;
    if (qos === 0) {
      if (open !== undefined) return open.publish(topic, payload, 0, retain);
      const copy = new Uint8Array(payload);
      this.member.whenOpen((c) => c?.publish(topic, copy, 0, retain));
      return true;
    }
    const copy = open !== undefined ? payload : new Uint8Array(payload);
    this.member.whenOpen((c) => {
      const sent = c !== undefined && c.publish(topic, copy, qos, retain, (ok) => this.sink.published(msgId, ok));
      if (!sent) this.sink.published(msgId, false);
    });
    return true;
  }

  subscribe(filter: string, qos: 0 | 1 | 2, msgId: number): void {
    if (this.phase === "closed") {
      this.sink.subAck(msgId, 0x80);
      return;
    }
    const device = this.device;
    const member = this.member;
    let sub = device.subscriptions.get(filter);
    if (sub === undefined) {
      sub = { device, filter, qos, retainedUntil: Infinity };
      device.subscriptions.set(filter, sub);
      member.table.add(sub);
    }
    const made = sub;
    made.retainedUntil = Infinity;
    made.retainedSeen = undefined;
    // Subscribed again even when the union holds the filter: the broker then sends its retained messages
    // again (MQTT 3.1.1 §3.8.4), and they go to this device.
    member.whenOpen((c) => {
      if (c === undefined) {
        this.unsubscribed(made);
        this.sink.subAck(msgId, 0x80);
        return;
      }
      c.subscribe([{ topic: filter, qos: 2 }], (granted) => {
        const g = granted[0] ?? 0x80;
        if (g > 2) {
          this.unsubscribed(made);
          this.sink.subAck(msgId, 0x80);
          return;
        }
        made.qos = (qos < g ? qos : g) as 0 | 1 | 2;
        made.retainedUntil = this.host.now() + RETAINED_WINDOW_MS;
        if (device.persistent) this.host.record(device, true);
        this.sink.subAck(msgId, made.qos);
      });
    });
  }

  unsubscribe(filter: string, msgId: number): void {
    const sub = this.device.subscriptions.get(filter);
    if (sub !== undefined) {
      const last = this.unsubscribed(sub);
      if (this.device.persistent) this.host.record(this.device, true);
      if (last) {
        this.member.whenOpen((c) => {
          if (c === undefined) this.sink.unsubAck(msgId);
          else c.unsubscribe([filter], () => this.sink.unsubAck(msgId));
        });
        return;
      }
    }
    this.sink.unsubAck(msgId);
  }

  /** Takes a subscription out of the device and the union; true when no device holds its filter any more. */
  private unsubscribed(sub: { filter: string }): boolean {
    const held = this.device.subscriptions.get(sub.filter);
    if (held === undefined) return false;
    this.device.subscriptions.delete(sub.filter);
    return this.member.table.remove(held);
  }

  /**
   * What a new upstream connection would bring: the new will (kept by the gateway, which publishes it when
   * the device is lost) and, for a persistent session, every message it has not yet taken into custody, sent
   * again as the broker would on a new connection (MQTT 3.1.1 §4.4); the session let them go when it asked.
   */
  replace(will: Will | undefined): void {
    this.device.will = will;
    this.host.record(this.device, this.phase !== "closed");
    if (this.phase === "closed") {
      this.sink.connack(false, false);
      return;
    }
    this.member.whenOpen((c) => {
      const ok = c !== undefined && this.phase !== "closed";
      this.sink.connack(ok, false);
      if (!ok) return;
      for (const held of [...this.pending])
        this.sink.message(held.topic, held.payload, held.qos, held.retain, () => this.release(held), undefined, true);
    });
  }

  /**
   * graceful: the device disconnected, its will is discarded; otherwise it was lost and the gateway publishes
   * its will, as a broker would for a connection that ends without DISCONNECT (MQTT 3.1.1 §3.1.2.5).
   * Messages not yet in the session's custody when `after` settles are parked for a persistent session and
   * dropped for a clean one (as a broker drops a clean session).
   */
  close(graceful: boolean, after?: Promise<void>): Promise<void> {
    if (this.closeCalled) return Promise.resolve();
    this.closeCalled = true;
    // A device whose CONNECT never succeeded had no will in force.
    if (!graceful && this.phase === "open") this.host.publishWill(this.device);
    this.end();
    if (after === undefined) {
      this.settleClosed();
      return Promise.resolve();
    }
    return after.then(() => this.settleClosed());
  }

  private end(): void {
    this.phase = "closed";
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }

  private settleClosed(): void {
    const device = this.device;
    const open = [...this.pending];
    this.pending.clear();
    for (let i = open.length - 1; i >= 0; i--) {
      const held = open[i] as Held;
      if (device.persistent) this.host.park(device, held, true);
      else settle(held);
    }
    if (device.session === this) {
      device.session = undefined;
      if (device.persistent) {
        this.host.record(device, false);
        this.host.away(device);
      } else this.host.forget(device);
    }
  }
}
