import { LazyMap } from "../../lazy-collections";
import type { Will } from "../../session/types";
import type { DeviceSubscription } from "./subscriptions";

/**
 * The shares of one QoS 1/2 broker message: one per device it went to at QoS 1/2. The shared connection
 * acknowledges it (PUBACK or PUBREC) once every share is settled: each device has it in custody. A share
 * not settled within waitMs (a device that is slow, asleep without a store, or whose queue is full) is
 * settled then: the gateway holds that device's copy in memory from there on, so that one device never
 * holds back the shared connection (the broker stops sending past its in-flight window).
 */
export class Shares {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private left: number,
    private readonly acknowledge: () => void,
    waitMs: number,
  ) {
    this.timer = setTimeout(() => this.settleAll(), waitMs);
    this.timer.unref();
  }

  settleOne(): void {
    if (this.left === 0) return;
    this.left--;
    if (this.left === 0) this.done();
  }

  private settleAll(): void {
    if (this.left === 0) return;
    this.left = 0;
    this.done();
  }

  private done(): void {
    clearTimeout(this.timer);
    this.acknowledge();
  }
}

/** A QoS 1/2 message on its way to one device, until the device's session has it in custody. */
export interface Held {
  topic: string;
  payload: Uint8Array;
  qos: 1 | 2;
  retain: boolean;
  /** Settles this device's share of the broker message; undefined once settled (or for a parked one). */
  share: Shares | undefined;
  /** Its parked copy in the durable store, until the device has it. */
  seq?: number | undefined;
}

export function settle(held: Held): void {
  const share = held.share;
  held.share = undefined;
  if (share !== undefined) share.settleOne();
}

/**
 * What the gateway keeps of one aggregated device, as a broker keeps a client's session: its subscriptions
 * and its will, and for a persistent session (CleanSession 0) the QoS 1/2 messages that arrived while no
 * connection of it was open ("parked"), delivered at its next CONNECT with CleanSession 0.
 */
export class Device<S> {
  readonly subscriptions: Map<string, DeviceSubscription<Device<S>>> = new LazyMap();
  /** The session attached now: the device's current connection through the gateway. */
  session: S | undefined;
  will: Will | undefined;
  persistent = false;
  parked: Held[] = [];
  /** Whether the durable store has a record of it (DeviceJournal). */
  recorded = false;

  constructor(
    readonly clientId: string,
    /** Which connection of the pool carries this device. */
    readonly member: number,
  ) {}
}
