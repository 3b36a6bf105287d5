import type { Log } from "../../../transports/link";
import type { DeviceStore, StoredDevice, StoredMessage } from "../../store/session-store";
import type { Device, Held } from "./device";

/** A device as the store gave it back at start, with its parked messages. */
export interface LoadedDevice {
  record: StoredDevice;
  parked: StoredMessage[];
}

/**
 * Aggregating mode's devices in the durable store (DeviceStore), so that a restart keeps what the broker
 * would have kept in transparent mode: a persistent device's subscriptions and parked messages, and the
 * will of every device that had a connection open when the gateway stopped unexpectedly. Without a store
 * (sleep.store.path "") it keeps nothing and every write succeeds at once.
 */
export class DeviceJournal {
  constructor(
    private readonly store: DeviceStore | undefined,
    private readonly log: Log,
  ) {}

  /** Writes the device as it is now, or deletes its record when nothing of it is to survive a restart. */
  record<S>(device: Device<S>, connected: boolean): void {
    if (this.store === undefined) return;
    if (!device.persistent && (device.will === undefined || !connected)) {
      if (device.recorded) this.forget(device);
      return;
    }
    const record: StoredDevice = {
      clientId: device.clientId,
      persistent: device.persistent,
      subscriptions: [...device.subscriptions.values()].map((s) => ({ topicFilter: s.filter, qos: s.qos })),
      connected,
    };
    if (device.will !== undefined)
      record.will = {
        topicName: device.will.topic,
        payload: device.will.payload,
        qos: device.will.qos,
        retain: device.will.retain,
      };
    device.recorded = true;
    this.store.putDevice(record).then(
      (ok) => {
        if (!ok) this.log.warn("limit-hit", { limit: "sleep.store.maxSessions", clientId: device.clientId });
      },
      (err: Error) => this.failed("putDevice", device.clientId, err),
    );
  }

  /** The device's record and parked messages go. */
  forget<S>(device: Device<S>): void {
    device.recorded = false;
    this.store?.deleteDevice(device.clientId).catch((err: Error) => this.failed("deleteDevice", device.clientId, err));
  }

  /** Writes a parked message (synced); false when the store refused it (full) or failed. */
  async park<S>(device: Device<S>, held: Held): Promise<boolean> {
    if (this.store === undefined) return true;
    if (!device.recorded) this.record(device, false);
    try {
      const result = await this.store.addParked(device.clientId, {
        topicName: held.topic,
        payload: held.payload,
        qos: held.qos,
        retain: held.retain,
      });
      if (!result.stored) return false;
      held.seq = result.seq;
      return true;
    } catch (err) {
      this.failed("addParked", device.clientId, err as Error);
      return false;
    }
  }

  /** A parked message is in a session's custody now: its stored copy goes. */
  unparked<S>(device: Device<S>, held: Held): void {
    const seq = held.seq;
    if (this.store === undefined || seq === undefined) return;
    held.seq = undefined;
    this.store
      .deleteParked(device.clientId, seq)
      .catch((err: Error) => this.failed("deleteParked", device.clientId, err));
  }

  async load(): Promise<LoadedDevice[]> {
    if (this.store === undefined) return [];
    const out: LoadedDevice[] = [];
    for (const record of await this.store.devices())
      out.push({ record, parked: await this.store.parked(record.clientId) });
    return out;
  }

  private failed(op: string, clientId: string, err: Error): void {
    this.log.error("store-failed", { op, clientId, error: err.message });
  }
}
