import { performance } from "node:perf_hooks";
import type { Log } from "../../../transports/link";
import type { DeviceStore } from "../../store/session-store";
import { connectionOptionsFor, type BrokerOptions } from "../broker-options";
import { BrokerWatch, type BrokerStatus } from "../broker-watch";
import type {
  AggregatingFigures,
  Upstream,
  UpstreamConnectionState,
  UpstreamSession,
  UpstreamSessionOptions,
  UpstreamSink,
} from "../upstream";
import { AggregatedSession, type AggregatedDevice, type DeviceHost } from "./aggregated-session";
import { Device, settle, type Held } from "./device";
import { DeviceJournal } from "./journal";
import { PoolMember } from "./pool-member";
import { refusedSession } from "./refused-session";

export interface AggregatingOptions extends BrokerOptions {
  /** Shared connections, 1 to 8; a device always uses the same one (by its client id). */
  connections: number;
  /** Client id of shared connection i is `${clientIdPrefix}-${i}`: fixed, so the broker keeps their sessions. */
  clientIdPrefix: string;
  /** Persistent devices kept without a connection, at most; beyond, the one away longest is forgotten. */
  maxKeptSessions: number;
  /** Messages parked for one device without a connection, and for all of them together. */
  maxParkedPerClient: number;
  maxParkedMessages: number;
  /** A device's share of a QoS 1/2 broker message is settled by then at the latest (see Shares). */
  custodyWaitMs: number;
  /** Where persistent devices and parked messages survive a restart; none: they live in memory only. */
  store?: DeviceStore | undefined;
  log: Log;
  /** Milliseconds, monotonic; performance.now by default. */
  now?: () => number;
}

/** Figures of the aggregating adapter, for metrics. */
export interface AggregatingCounters {
  /** Messages parked for devices without a connection, now. */
  parked: number;
  /** Messages dropped because a parking bound was reached. */
  parkedDropped: number;
  /** Wills published by the gateway for lost devices. */
  willsPublished: number;
}

/**
 * Aggregating mode: many devices share a small pool of MQTT connections. Each shared connection subscribes
 * to the union of its devices' subscriptions and fans every broker message out to the matching devices.
 * The gateway keeps what the broker would keep per client in transparent mode: subscriptions, wills
 * (published when a device is lost, never at DISCONNECT) and, for persistent sessions, the QoS 1/2
 * messages that arrive while the device has no connection open.
 *
 * What it cannot do: a device's own broker login (an access entry with username, password or certificate)
 * — every device speaks as the shared connection, so such a device is refused (CONNACK 0x03).
 */
export class AggregatingUpstream implements Upstream, DeviceHost {
  private readonly members: PoolMember<AggregatedDevice>[];
  private readonly devices = new Map<string, AggregatedDevice>();
  /** The persistent devices without a connection, the one away longest first. */
  private readonly awayDevices = new Map<string, AggregatedDevice>();
  readonly counters: AggregatingCounters = { parked: 0, parkedDropped: 0, willsPublished: 0 };
  readonly connectTimeoutMs: number;
  readonly now: () => number;
  private readonly journal: DeviceJournal;
  /** Whether the broker answers: the first shared connection tells, as the gateway's own does in transparent mode. */
  private readonly watch: BrokerWatch;

  constructor(private readonly options: AggregatingOptions) {
    this.journal = new DeviceJournal(options.store, options.log);
    this.watch = new BrokerWatch(options.url, options.log);
    this.connectTimeoutMs = options.connectTimeoutMs;
    this.now = options.now ?? (() => performance.now());
    this.members = [];
    for (let i = 0; i < options.connections; i++) {
      this.members.push(
        new PoolMember(
          // A persistent session at the broker, so it queues for the devices while the gateway restarts.
          connectionOptionsFor(options, `${options.clientIdPrefix}-${i}`, false, 60, undefined),
          (device, topic, payload, qos, retain, share, packetId, dup) =>
            this.deliver(device, topic, payload, qos, retain, share, packetId, dup),
          () => this.memberDropped(i),
          {
            now: this.now,
            custodyWaitMs: options.custodyWaitMs,
            log: options.log,
            watch: i === 0 ? this.watch : undefined,
          },
        ),
      );
    }
  }

  member(device: AggregatedDevice): PoolMember<AggregatedDevice> {
    return this.members[device.member] as PoolMember<AggregatedDevice>;
  }

  /** The pool member of a client id: FNV-1a over its UTF-16 units, so a device keeps its connection. */
  private memberIndex(clientId: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < clientId.length; i++) h = Math.imul(h ^ clientId.charCodeAt(i), 0x01000193);
    return (h >>> 0) % this.members.length;
  }

  open(options: UpstreamSessionOptions, sink: UpstreamSink): UpstreamSession {
    if (
      options.username !== undefined ||
      options.password !== undefined ||
      options.cert !== undefined ||
      options.key !== undefined
    ) {
      this.options.log.warn("connect-refused", {
        clientId: options.clientId,
        reason: "its access entry gives it an own broker login, which aggregating mode cannot use",
        action: "give it mode transparent, or take the login out of its access entry",
      });
      return refusedSession(sink);
    }
    // An earlier connection still attached is taken over, as the broker takes over a client id (§3.1.4).
    void this.devices.get(options.clientId)?.session?.close(true);
    let device = this.devices.get(options.clientId);
    if (device === undefined) {
      device = new Device(options.clientId, this.memberIndex(options.clientId));
      this.devices.set(options.clientId, device);
    }
    // MQTT 3.1.1 §3.1.2.4: CleanSession 1 discards what the gateway kept of the device.
    if (options.cleanSession) {
      this.discard(device);
      if (device.recorded) this.journal.forget(device);
    }
    device.persistent = !options.cleanSession;
    device.will = options.will;
    const session = new AggregatedSession(this, device, sink);
    device.session = session;
    this.awayDevices.delete(device.clientId);
    this.journal.record(device, true);
    return session;
  }

  /**
   * Takes back what the durable store kept before a restart, before any device connects: persistent devices
   * with their subscriptions and parked messages. A device that had a connection open when the gateway
   * stopped lost it without DISCONNECT, so its will is published now, as the broker would have at once.
   */
  async restore(): Promise<void> {
    for (const { record, parked } of await this.journal.load()) {
      const device = new Device<AggregatedSession>(record.clientId, this.memberIndex(record.clientId));
      device.persistent = record.persistent;
      device.recorded = true;
      if (record.will !== undefined)
        device.will = {
          topic: record.will.topicName,
          payload: record.will.payload,
          qos: record.will.qos,
          retain: record.will.retain,
        };
      const member = this.member(device);
      for (const s of record.subscriptions) {
        const sub = { device, filter: s.topicFilter, qos: s.qos, retainedUntil: 0 };
        device.subscriptions.set(s.topicFilter, sub);
        member.table.add(sub);
      }
      for (const m of parked) {
        device.parked.push({
          topic: m.topicName,
          payload: m.payload,
          qos: m.qos,
          retain: m.retain,
          share: undefined,
          seq: m.seq,
        });
        this.counters.parked++;
      }
      if (record.connected) this.publishWill(device);
      if (device.persistent) {
        this.devices.set(device.clientId, device);
        this.away(device);
        if (record.connected) this.journal.record(device, false);
      } else this.journal.forget(device);
    }
    // The shared sessions at the broker kept queuing for these devices: their connections open now.
    for (const member of this.members) if (member.table.size > 0) member.shared.start();
  }

  private deliver(
    device: AggregatedDevice,
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    retain: boolean,
    share: Held["share"],
    packetId: number,
    dup: boolean,
  ): void {
    const session = device.session;
    if (session !== undefined) {
      session.deliver(topic, payload, qos, retain, share, packetId, dup);
      return;
    }
    // A persistent session without a connection: the gateway keeps the message for its next CONNECT.
    if (qos > 0) {
      const held: Held = { topic, payload: new Uint8Array(payload), qos: qos as 1 | 2, retain, share };
      if (device.persistent) this.park(device, held, false);
      else settle(held);
    }
  }

  park(device: AggregatedDevice, held: Held, first: boolean): void {
    const o = this.options;
    if (device.parked.length >= o.maxParkedPerClient || this.counters.parked >= o.maxParkedMessages) {
      this.counters.parkedDropped++;
      o.log.warn("limit-hit", {
        limit:
          device.parked.length >= o.maxParkedPerClient
            ? "aggregating.maxParkedPerClient"
            : "aggregating.maxParkedMessages",
        clientId: device.clientId,
        topic: held.topic,
        action: "message dropped",
      });
      settle(held);
      return;
    }
    this.counters.parked++;
    if (first) device.parked.unshift(held);
    else device.parked.push(held);
    // The broker is told only once the copy is on disk.
    void this.journal.park(device, held).then((durable) => {
      if (!durable)
        o.log.warn("limit-hit", {
          limit: "sleep.store",
          clientId: device.clientId,
          topic: held.topic,
          action: "parked in memory only: the store refused it or failed",
        });
      if (held.seq !== undefined && !device.parked.includes(held) && !device.session?.holds(held))
        this.journal.unparked(device, held);
      settle(held);
    });
  }

  unpark(device: AggregatedDevice, held: Held): void {
    const i = device.parked.indexOf(held);
    if (i >= 0) {
      device.parked.splice(i, 1);
      this.counters.parked--;
    }
    this.journal.unparked(device, held);
  }

  away(device: AggregatedDevice): void {
    this.awayDevices.delete(device.clientId);
    this.awayDevices.set(device.clientId, device);
    if (this.awayDevices.size <= this.options.maxKeptSessions) return;
    const [oldest] = this.awayDevices.values();
    if (oldest === undefined) return;
    this.options.log.warn("limit-hit", {
      limit: "aggregating.maxKeptSessions",
      value: this.options.maxKeptSessions,
      clientId: oldest.clientId,
      action: "the persistent session away longest is forgotten, with its parked messages",
    });
    this.forget(oldest);
  }

  record(device: AggregatedDevice, connected: boolean): void {
    this.journal.record(device, connected);
  }

  takeParked(device: AggregatedDevice): Held[] {
    const parked = device.parked;
    device.parked = [];
    this.counters.parked -= parked.length;
    return parked;
  }

  publishWill(device: AggregatedDevice): void {
    const will = device.will;
    if (will === undefined) return;
    this.counters.willsPublished++;
    this.options.log.info("will-published", { clientId: device.clientId, topic: will.topic });
    this.member(device).publishOwed(will.topic, will.payload, will.qos, will.retain);
  }

  /**
   * A shared connection was lost: every device on it loses its connection to the broker, as in transparent
   * mode when a device's own connection drops (the device hears DISCONNECT and connects again).
   */
  private memberDropped(index: number): void {
    for (const device of [...this.devices.values()])
      if (device.member === index && device.session?.current === "open") device.session.lost();
  }

  /** Everything kept of a device goes: its subscriptions leave the union, its parked messages are dropped. */
  private discard(device: AggregatedDevice): void {
    const member = this.member(device);
    for (const sub of device.subscriptions.values()) {
      if (member.table.remove(sub)) member.whenOpen((c) => c?.unsubscribe([sub.filter], () => undefined));
    }
    device.subscriptions.clear();
    this.takeParked(device);
  }

  forget(device: AggregatedDevice): void {
    this.awayDevices.delete(device.clientId);
    this.discard(device);
    if (device.recorded) this.journal.forget(device);
    if (this.devices.get(device.clientId) === device) this.devices.delete(device.clientId);
  }

  /**
   * Opens the first shared connection now and keeps it open: an unreachable broker is then reported at warn
   * level with the retry cadence, and brokerStatus() follows it.
   */
  watchBroker(): void {
    (this.members[0] as PoolMember<AggregatedDevice>).shared.start();
  }

  brokerStatus(): BrokerStatus {
    return this.watch.status;
  }

  /** QoS -1 publishes (§6.8) through the first shared connection. */
  publishAnonymous(topic: string, payload: Uint8Array, retain: boolean): void {
    const member = this.members[0] as PoolMember<AggregatedDevice>;
    const open = member.shared.current;
    if (open !== undefined) open.publish(topic, payload, 0, retain);
    else {
      const copy = new Uint8Array(payload);
      member.whenOpen((c) => c?.publish(topic, copy, 0, retain));
    }
  }

  connectionStates(): Record<UpstreamConnectionState, number> {
    const counts = { waiting: 0, connecting: 0, open: 0, replacing: 0 };
    for (const device of this.devices.values()) {
      const state = device.session?.current;
      if (state === "open") counts.open++;
      else if (state === "connecting") counts.connecting++;
    }
    return counts;
  }

  aggregatingFigures(): AggregatingFigures {
    return {
      sharedOpen: this.members.filter((m) => m.shared.state === "open").length,
      sharedTotal: this.members.length,
      keptSessions: this.awayDevices.size,
      ...this.counters,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
  }
}
