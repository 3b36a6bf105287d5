// Many MQTT-SN devices at once: each its own UDP socket (its own source port on 127.0.0.1), connected through
// the gateway a window at a time, with a CONNECT sent again when its CONNACK does not come (UDP may drop it).
import { BenchClient } from "./sn-client";

/** Sockets opened in parallel per step. */
const OPEN_BATCH = 500;

export async function openDevices(count: number, gatewayPort: number): Promise<BenchClient[]> {
  const devices: BenchClient[] = [];
  for (let i = 0; i < count; i += OPEN_BATCH) {
    const batch = Math.min(OPEN_BATCH, count - i);
    devices.push(...(await Promise.all(Array.from({ length: batch }, () => BenchClient.open(gatewayPort)))));
  }
  return devices;
}

export function closeDevices(devices: BenchClient[]): void {
  for (const d of devices) d.close();
}

export interface BatchOutcome {
  ms: number;
  done: number;
  failed: number;
  /** Requests sent again after no answer within the timeout. */
  retries: number;
  firstError: string | undefined;
}

export interface BatchOptions {
  /** Requests outstanding at once. */
  window: number;
  timeoutMs: number;
  attempts: number;
}

/**
 * Runs `step` for every device, `window` at a time, trying a step again after a timeout; how long it took
 * and how many failed.
 */
export async function forEachDevice(
  devices: BenchClient[],
  options: BatchOptions,
  step: (device: BenchClient, index: number, timeoutMs: number) => Promise<unknown>,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { ms: 0, done: 0, failed: 0, retries: 0, firstError: undefined };
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < devices.length) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          await step(devices[i] as BenchClient, i, options.timeoutMs);
          outcome.done++;
          break;
        } catch (err) {
          const timedOut = (err as Error).message.startsWith("timeout");
          if (timedOut && attempt < options.attempts) {
            outcome.retries++;
            continue;
          }
          outcome.failed++;
          outcome.firstError ??= (err as Error).message;
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.window, devices.length) }, worker));
  outcome.ms = performance.now() - t0;
  return outcome;
}

/** CONNECT (CleanSession 1, keep-alive `duration` s) for every device, client ids `${prefix}-${index}`. */
export function connectDevices(
  devices: BenchClient[],
  prefix: string,
  duration: number,
  options: BatchOptions,
): Promise<BatchOutcome> {
  return forEachDevice(devices, options, (d, i, timeoutMs) => d.connect(`${prefix}-${i}`, duration, timeoutMs));
}
