/**
 * Memory per sleeping client and per buffered message (§6.14 sleep buffers).
 *
 *   npm run bench:sleep                       through the real gateway (default)
 *   npm run bench:sleep -- --direct           the buffer structures alone, in this process
 *   options: --clients N (1000) --messages N (10) --payload N (32) --broker URL|embedded
 *
 * Gateway mode: the gateway runs in a child process (node --expose-gc); this process drives N UDP
 * clients that connect (CleanSession 0), subscribe, and sleep; then MESSAGES messages per client are
 * published (QoS 0 and 1 alternately; QoS 1 goes through the durable store). The child reports its
 * memory after a full GC at three points: idle, with N sleeping clients, with every message held.
 * The broker is Mosquitto when installed (so its memory is not counted), else the embedded one (then
 * the per-client figure includes the broker's share). Prints figures; never fails on them.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { SleepBuffer, type BufferedMessage } from "../gateway/sleep/buffer";
import { defaultSleepConfig } from "../gateway/sleep/config";
import { startGateway } from "../gateway/gateway";
import { MsgType } from "../protocol";
import { startMosquitto } from "../test/support/mosquitto";
import { hasCommand } from "../test/support/system";
import { SleepyDevice } from "../test/e2e/sleepy-device";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} needs a positive integer, got ${process.argv[i + 1]}`);
  return value;
}

const clients = arg("clients", 1000);
const perClient = arg("messages", 10);
const payloadBytes = arg("payload", 32);

interface Memory {
  heap: number;
  arrayBuffers: number;
  rss: number;
}

function measure(): Memory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc (npm run bench:sleep does)");
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

const total = (m: Memory) => m.heap + m.arrayBuffers;
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const topicOf = (c: number) => `bench/sensor-${String(c).padStart(5, "0")}/cmd`;

function report(title: string, before: Memory, empty: Memory, full: Memory, held: number): void {
  const perClientBytes = (total(empty) - total(before)) / clients;
  const perMessageBytes = (total(full) - total(empty)) / held;
  console.log(title);
  console.log(
    `  heap+arrayBuffers  idle ${kib(total(before))}, ${clients} sleeping ${kib(total(empty))}, ${held} held ${kib(total(full))}`,
  );
  console.log(
    `  rss                idle ${kib(before.rss)}, ${clients} sleeping ${kib(empty.rss)}, ${held} held ${kib(full.rss)}`,
  );
  console.log(
    `  per sleeping client (empty buffer)  ${perClientBytes.toFixed(0)} octets heap (rss ${((empty.rss - before.rss) / clients).toFixed(0)})`,
  );
  console.log(
    `  per buffered message                ${perMessageBytes.toFixed(0)} octets heap (rss ${((full.rss - empty.rss) / held).toFixed(0)}), payload ${payloadBytes} + topic ${topicOf(0).length}`,
  );
}

function direct(): void {
  const limits = defaultSleepConfig();
  const received = Buffer.alloc(64 * 1024, 7);
  const before = measure();
  const buffers = new Map<string, SleepBuffer>();
  for (let c = 0; c < clients; c++)
    buffers.set(
      `sensor-${c}`,
      new SleepBuffer({ maxMessages: Math.max(limits.maxMessages, perClient), maxBytes: limits.maxBytes }),
    );
  const empty = measure();
  let held = 0;
  let c = 0;
  for (const buffer of buffers.values()) {
    for (let m = 0; m < perClient; m++) {
      const message: BufferedMessage = {
        topicName: topicOf(c),
        payload: new Uint8Array(received.subarray(m, m + payloadBytes)),
        qos: (m % 3) as 0 | 1 | 2,
        retain: false,
      };
      if (buffer.offer(message).kept) held++;
    }
    c++;
  }
  const full = measure();
  // Read after the measurement, so the buffers are alive while it is taken.
  let stillHeld = 0;
  for (const buffer of buffers.values()) stillHeld += buffer.length;
  report(
    `sleep buffers alone (--direct): ${clients} clients × ${perClient} messages (${stillHeld} held)`,
    before,
    empty,
    full,
    held,
  );
}

type ToChild = { kind: "measure" } | { kind: "held" } | { kind: "stop" };
type FromChild =
  | { kind: "ready"; udp: string; brokerUrl: string }
  | { kind: "memory"; memory: Memory }
  | { kind: "held"; held: number };

/** The gateway process: started by the parent with an IPC channel. */
async function child(broker: string): Promise<void> {
  const storePath = mkdtempSync(join(tmpdir(), "mqttsn-bench-store-"));
  let held = 0;
  const count = (event: string, fields?: Record<string, unknown>): void => {
    if (event === "sleep-held") held++;
    else if (event === "sleep-buffer-drop" || event === "sleep-buffer-refused") console.error(event, fields);
  };
  const gateway = await startGateway(
    {
      udp: ["127.0.0.1:0"],
      broker,
      embeddedPort: 0,
      logLevel: "debug",
      timers: { advertiseIntervalS: 0 },
      // Every client is on 127.0.0.1: one source for the per-source CONNECT limits.
      limits: {
        maxClients: clients + 10,
        maxHandshakesPerSource: clients + 10,
        maxConnectsPerSecondPerSource: 1_000_000,
      },
      sleep: { maxMessages: Math.max(perClient, 100), store: { path: storePath } },
    },
    { log: { debug: count, info: () => {}, warn: count, error: (e, f) => console.error(e, f) } },
  );
  const send = (m: FromChild): void => void process.send!(m);
  process.on("message", (m: ToChild) => {
    if (m.kind === "measure") send({ kind: "memory", memory: measure() });
    else if (m.kind === "held") send({ kind: "held", held });
    else
      void gateway.close().then(() => {
        rmSync(storePath, { recursive: true, force: true });
        process.exit(0);
      });
  });
  send({ kind: "ready", udp: gateway.udpAddresses[0] as string, brokerUrl: gateway.brokerUrl });
}

function ask<T extends FromChild["kind"]>(
  gw: ChildProcess,
  request: ToChild,
  answer: T,
): Promise<Extract<FromChild, { kind: T }>> {
  return new Promise((resolve) => {
    const on = (m: FromChild): void => {
      if (m.kind !== answer) return;
      gw.off("message", on);
      resolve(m as Extract<FromChild, { kind: T }>);
    };
    gw.on("message", on);
    gw.send(request);
  });
}

async function inBatches<T>(items: T[], size: number, f: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(f));
}

async function throughGateway(): Promise<void> {
  const i = process.argv.indexOf("--broker");
  let broker = i >= 0 ? (process.argv[i + 1] as string) : "";
  let stopBroker = async (): Promise<void> => {};
  if (broker === "") {
    if (hasCommand("mosquitto")) {
      const m = await startMosquitto(["max_queued_messages 0", "max_inflight_messages 0"]);
      broker = m.url;
      stopBroker = () => m.stop();
    } else broker = "embedded";
  }
  const gw = fork(
    fileURLToPath(import.meta.url),
    [
      "--child",
      broker,
      "--clients",
      String(clients),
      "--messages",
      String(perClient),
      "--payload",
      String(payloadBytes),
    ],
    {
      execArgv: ["--expose-gc", "--import", "tsx"],
    },
  );
  const ready = await new Promise<Extract<FromChild, { kind: "ready" }>>((resolve) =>
    gw.once("message", (m: FromChild) => resolve(m as Extract<FromChild, { kind: "ready" }>)),
  );
  const before = (await ask(gw, { kind: "measure" }, "memory")).memory;

  const devices: SleepyDevice[] = [];
  for (let c = 0; c < clients; c++)
    devices.push(await SleepyDevice.open(ready.udp, `sensor-${String(c).padStart(5, "0")}`));
  await inBatches(devices, 50, async (d) => {
    await d.connectPersistent({ keepAlive: 3600 });
    await d.subscribe(topicOf(devices.indexOf(d)), 1);
    await d.goToSleep(3600);
  });
  const empty = (await ask(gw, { kind: "measure" }, "memory")).memory;

  const publisher = await mqtt.connectAsync(ready.brokerUrl, { reconnectPeriod: 0, clientId: "bench-publisher" });
  const payload = Buffer.alloc(payloadBytes, 0x61);
  const started = Date.now();
  for (let m = 0; m < perClient; m++) {
    await Promise.all(devices.map((_, c) => publisher.publishAsync(topicOf(c), payload, { qos: (m % 2) as 0 | 1 })));
  }
  const expected = clients * perClient;
  let held = 0;
  for (let waited = 0; waited < 120_000; waited += 250) {
    held = (await ask(gw, { kind: "held" }, "held")).held;
    if (held >= expected) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const heldMs = Date.now() - started;
  const full = (await ask(gw, { kind: "measure" }, "memory")).memory;
  report(
    `through the gateway: ${clients} UDP clients asleep (CleanSession 0) × ${perClient} messages (QoS 0 and 1 alternately), broker ${broker === "embedded" ? "embedded (counted in the figures)" : "Mosquitto (not counted)"}; ${held} held in ${(heldMs / 1000).toFixed(1)} s`,
    before,
    empty,
    full,
    held,
  );
  // A spot check that the buffers hold what was published: one client wakes and gets all of its messages.
  const sample = devices[0] as SleepyDevice;
  const got = await sample.wake();
  console.log(`  spot check: ${sample.clientId} woke and received ${got.length} of ${perClient} messages`);
  await publisher.endAsync();
  for (const d of devices) d.send({ type: MsgType.Disconnect, duration: undefined });
  await Promise.all(devices.map((d) => d.close()));
  gw.send({ kind: "stop" });
  await new Promise((r) => gw.once("exit", r));
  await stopBroker();
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) await child(process.argv[childAt + 1] as string);
else if (process.argv.includes("--direct")) direct();
else await throughGateway();
