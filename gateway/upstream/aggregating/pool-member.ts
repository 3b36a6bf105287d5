import type { Log } from "../../../transports/link";
import type { BrokerWatch } from "../broker-watch";
import type { ConnectionOptions, MqttConnection } from "../connection";
import { Shares } from "./device";
import { SharedConnection, type SharedOperation } from "./shared-connection";
import { SubscriptionTable, type DeviceSubscription } from "./subscriptions";

/** Filters per SUBSCRIBE when the union is made again on a broker that lost the shared session. */
const RESUBSCRIBE_BATCH = 100;
/** Publishes (wills) kept while the shared connection is down, at most; beyond, dropped and counted. */
const MAX_OWED = 10_000;

interface Owed {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** Where a broker message goes: one device at one QoS, with its share of the acknowledgement (QoS 1/2). */
export type Deliver<D> = (
  device: D,
  topic: string,
  payload: Buffer,
  qos: 0 | 1 | 2,
  retain: boolean,
  share: Shares | undefined,
  packetId: number,
  dup: boolean,
) => void;

export interface PoolSettings {
  /** Milliseconds, monotonic. */
  now: () => number;
  /** A device's share of a QoS 1/2 broker message is settled by then at the latest (see Shares). */
  custodyWaitMs: number;
  log: Log;
  /** Given to the pool's first member: its connection tells whether the broker is reachable. */
  watch?: BrokerWatch | undefined;
}

/**
 * One shared connection and the devices it carries: it subscribes to the union of their subscriptions
 * and fans each broker message out to every matching device.
 */
export class PoolMember<D> {
  readonly table = new SubscriptionTable<D>();
  readonly shared: SharedConnection;
  /** Retained messages no device was waiting for (the broker sent them again after it lost the session). */
  retainedUnclaimed = 0;
  /** Wills dropped because too many waited for the connection. */
  owedDropped = 0;
  private owed: Owed[] = [];

  private readonly now: () => number;
  private readonly custodyWaitMs: number;

  constructor(
    options: ConnectionOptions,
    private readonly deliver: Deliver<D>,
    private readonly dropped: () => void,
    settings: PoolSettings,
  ) {
    this.now = settings.now;
    this.custodyWaitMs = settings.custodyWaitMs;
    this.shared = new SharedConnection(
      options,
      {
        opened: (sessionPresent) => {
          if (!sessionPresent) this.resubscribe();
          this.payOwed();
        },
        dropped: () => this.dropped(),
        message: (topic, payload, qos, retain, dup, packetId, connection) =>
          this.route(topic, payload, qos, retain, dup, packetId, connection),
      },
      settings.log,
      settings.watch,
    );
  }

  whenOpen(op: SharedOperation): void {
    this.shared.whenOpen(op);
  }

  /**
   * Publishes now, or as soon as the connection is open again (a will: the broker would have published it
   * when the device's own connection dropped, whatever became of the gateway's).
   */
  publishOwed(topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean): void {
    const open = this.shared.current;
    if (open !== undefined) {
      open.publish(topic, payload, qos, retain);
      return;
    }
    if (this.owed.length >= MAX_OWED) {
      this.owedDropped++;
      return;
    }
    this.owed.push({ topic, payload, qos, retain });
    this.shared.start();
  }

  private payOwed(): void {
    const owed = this.owed;
    this.owed = [];
    for (const o of owed) this.publishOwed(o.topic, o.payload, o.qos, o.retain);
  }

  /**
   * The broker has no session for the shared connection (its first CONNECT, or the broker lost it): the
   * union is subscribed again. Every filter at QoS 2: each device gets the lower of its own granted QoS
   * and the message's.
   */
  private resubscribe(): void {
    const filters = this.table.filters();
    for (let i = 0; i < filters.length; i += RESUBSCRIBE_BATCH) {
      const batch = filters.slice(i, i + RESUBSCRIBE_BATCH).map((topic) => ({ topic, qos: 2 as const }));
      this.shared.current?.subscribe(batch, () => undefined);
    }
  }

  /**
   * One broker message to every matching device, once per device at the highest QoS of its matching
   * subscriptions (MQTT 3.1.1 §3.3.5), capped by the message's QoS. A retained message (§3.3.1.3: the broker
   * sets RETAIN only on messages sent for a new subscription) goes only to the devices whose SUBSCRIBE asked
   * for it. A QoS 1/2 message is acknowledged once every device that takes it at QoS 1/2 has it in custody.
   */
  private route(
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    retain: boolean,
    dup: boolean,
    packetId: number,
    connection: MqttConnection,
  ): void {
    const targets = new Map<D, 0 | 1 | 2>();
    const now = this.now();
    for (const sub of this.table.match(topic) as DeviceSubscription<D>[]) {
      if (retain) {
        if (!(now < sub.retainedUntil)) continue;
        sub.retainedSeen ??= new Set();
        if (sub.retainedSeen.has(topic)) continue;
        sub.retainedSeen.add(topic);
      }
      const q = sub.qos < qos ? sub.qos : qos;
      const before = targets.get(sub.device);
      if (before === undefined || q > before) targets.set(sub.device, q);
    }
    if (retain && targets.size === 0) this.retainedUnclaimed++;
    let custodians = 0;
    for (const q of targets.values()) if (q > 0) custodians++;
    if (qos > 0 && custodians === 0) connection.acknowledge(packetId);
    const share =
      custodians > 0 ? new Shares(custodians, () => connection.acknowledge(packetId), this.custodyWaitMs) : undefined;
    for (const [device, q] of targets)
      this.deliver(device, topic, payload, q, retain, q > 0 ? share : undefined, packetId, dup);
  }

  close(): Promise<void> {
    return this.shared.close();
  }
}
