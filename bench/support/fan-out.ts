// Fan-out: devices subscribed to one topic; one message published on the broker; how long until each device
// has it, measured in this process from just before the publish to the device's receipt of the PUBLISH.
import type { MqttClient } from "mqtt";
import { percentile } from "./proc";
import type { BenchClient } from "./sn-client";
import { forEachDevice, type BatchOptions, type BatchOutcome } from "./devices";

export interface FanOutFigures {
  qos: 0 | 1;
  devices: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  /** The time to the last device (over those that received it). */
  maxMs: number;
}

/** SUBSCRIBE (topic name, `qos`) for every device. */
export function subscribeDevices(
  devices: BenchClient[],
  topic: string,
  qos: 0 | 1,
  options: BatchOptions,
): Promise<BatchOutcome> {
  return forEachDevice(devices, options, (d, i, timeoutMs) => d.subscribe(topic, qos, 1 + (i % 0xfffe), timeoutMs));
}

/** The round a PUBLISH belongs to: the first 8 octets of its data. */
function roundOf(data: Uint8Array, offset: number, length: number): number {
  if (length < 8) return NaN;
  return new DataView(data.buffer, data.byteOffset + offset, 8).getFloat64(0);
}

/** Publishes one message (round number `round`) at `qos` and waits up to `timeoutMs` for every device to have it. */
export async function fanOut(
  publisher: MqttClient,
  devices: BenchClient[],
  topic: string,
  qos: 0 | 1,
  round: number,
  timeoutMs: number,
): Promise<FanOutFigures> {
  const latencies: number[] = [];
  let t0 = 0;
  let allArrived: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (allArrived = resolve));
  for (const d of devices) {
    let seen = false;
    d.onPublish = (m) => {
      if (seen || roundOf(m.data as unknown as Uint8Array, m.dataOffset, m.dataLength) !== round) return;
      seen = true;
      latencies.push(performance.now() - t0);
      if (latencies.length === devices.length) allArrived();
    };
  }
  const payload = Buffer.alloc(8);
  payload.writeDoubleBE(round, 0);
  t0 = performance.now();
  publisher.publish(topic, payload, { qos });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([arrived, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  for (const d of devices) d.onPublish = undefined;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    qos,
    devices: devices.length,
    received: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length === 0 ? NaN : (sorted[sorted.length - 1] as number),
  };
}
