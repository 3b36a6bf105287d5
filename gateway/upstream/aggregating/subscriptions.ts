import { Qlobber } from "qlobber";

/**
 * One device's subscription to one filter, as the shared connection serves it. A QoS 1/2 broker message
 * reaches the device at the lower of `qos` (granted) and the message's QoS.
 */
export interface DeviceSubscription<D> {
  readonly device: D;
  readonly filter: string;
  qos: 0 | 1 | 2;
  /**
   * Retained messages the broker sends for this filter belong to this device until then (ms, the
   * adapter's clock): Infinity while its SUBSCRIBE is on its way, a short window after the SUBACK.
   */
  retainedUntil: number;
  /**
   * Topics whose retained message this subscription got in its window: every device's SUBSCRIBE makes the
   * broker send the retained messages again, and each goes to a device once. Made when first needed.
   */
  retainedSeen?: Set<string> | undefined;
}

/**
 * The subscriptions of the devices on one shared connection: a topic matcher over them (qlobber, the
 * matcher aedes uses) and, per filter, how many devices hold it. The shared connection subscribes to the
 * union and unsubscribes a filter when its last device leaves it.
 */
export class SubscriptionTable<D> {
  private readonly matcher = new Qlobber<DeviceSubscription<D>>({
    separator: "/",
    wildcard_one: "+",
    wildcard_some: "#",
    match_empty_levels: true,
  });
  private readonly holders = new Map<string, number>();

  /** Adds a device's subscription; true when the filter is new to the union. */
  add(sub: DeviceSubscription<D>): boolean {
    this.matcher.add(sub.filter, sub);
    const count = this.holders.get(sub.filter) ?? 0;
    this.holders.set(sub.filter, count + 1);
    return count === 0;
  }

  /** Removes a device's subscription; true when no device holds the filter any more. */
  remove(sub: DeviceSubscription<D>): boolean {
    this.matcher.remove(sub.filter, sub);
    const count = (this.holders.get(sub.filter) ?? 1) - 1;
    if (count > 0) {
      this.holders.set(sub.filter, count);
      return false;
    }
    this.holders.delete(sub.filter);
    return true;
  }

  /** The filters of the union: what the shared connection subscribes to again when the broker lost them. */
  filters(): string[] {
    return [...this.holders.keys()];
  }

  get size(): number {
    return this.holders.size;
  }

  /**
   * The subscriptions matching a topic name. MQTT 3.1.1 §4.7.2: a filter starting with a wildcard does not
   * match a topic name starting with '$'.
   */
  match(topic: string): DeviceSubscription<D>[] {
    const found = this.matcher.match(topic);
    if (!topic.startsWith("$")) return found;
    return found.filter((s) => !s.filter.startsWith("+") && !s.filter.startsWith("#"));
  }
}
