/**
 * Memory per sleeping client and per buffered message (§7 sleep buffers).
 *
 *   npm run bench:sleep                 (the buffer structures, measured in this process)
 *   npm run bench:sleep -- --clients 5000 --messages 20 --payload 64
 *
 * Builds CLIENTS sleep buffers (one per sleeping client) and offers MESSAGES messages to each, the
 * payload copied out of a larger receive buffer as the gateway does. Heap and ArrayBuffer memory are
 * read after a full GC (node --expose-gc) at three points: before, with the empty buffers, and with
 * every message held. Prints figures; never fails on them.
 */
import { SleepBuffer, type BufferedMessage } from "../gateway/sleep/buffer";
import { defaultSleepConfig } from "../gateway/sleep/config";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer, got ${process.argv[i + 1]}`);
  return value;
}

const clients = arg("clients", 1000);
const perClient = arg("messages", 10);
const payloadBytes = arg("payload", 32);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc (npm run bench:sleep does)");

function measure(): { heap: number; arrayBuffers: number } {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

const total = (m: { heap: number; arrayBuffers: number }) => m.heap + m.arrayBuffers;
const limits = defaultSleepConfig();
const received = Buffer.alloc(64 * 1024, 7);

const before = measure();
const buffers = new Map<string, SleepBuffer>();
for (let c = 0; c < clients; c++) buffers.set(`sensor-${String(c).padStart(5, "0")}`, new SleepBuffer({ maxMessages: Math.max(limits.maxMessages, perClient), maxBytes: limits.maxBytes }));
const empty = measure();
let kept = 0;
for (const [clientId, buffer] of buffers) {
  for (let m = 0; m < perClient; m++) {
    const message: BufferedMessage = {
      topicName: `devices/${clientId}/cmd`,
      payload: new Uint8Array(received.subarray(m, m + payloadBytes)),
      qos: (m % 3) as 0 | 1 | 2,
      retain: false,
    };
    if (buffer.offer(message).kept) kept++;
  }
}
const full = measure();

const perClientBytes = (total(empty) - total(before)) / clients;
const perMessageBytes = (total(full) - total(empty)) / kept;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

console.log(`sleep buffers measured directly: ${clients} sleeping clients × ${perClient} messages (${kept} kept), payload ${payloadBytes} octets, topic ~${`devices/sensor-00000/cmd`.length} octets`);
console.log(`  heap+arrayBuffers before      ${kib(total(before))}`);
console.log(`  with empty buffers            ${kib(total(empty))}`);
console.log(`  with every message held       ${kib(total(full))}`);
console.log(`  per sleeping client (empty)   ${perClientBytes.toFixed(0)} octets`);
console.log(`  per buffered message          ${perMessageBytes.toFixed(0)} octets (payload ${payloadBytes} + topic + overhead)`);
console.log(`  per sleeping client with ${perClient} messages: ${(perClientBytes + perMessageBytes * perClient).toFixed(0)} octets`);
