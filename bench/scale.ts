// Scale of one gateway, in aggregating and in transparent mode (issue 13). The gateway runs as its own process
// (node on the bundle in dist/, with the memory probe of bench/support/gateway-probe.mjs) against a real
// Mosquitto; every device is a real MQTT-SN client over UDP on 127.0.0.1 with its own source port. Measures:
//   1. --devices connected devices per mode: the gateway's RSS idle (once a few devices came and went) and
//      with them (after a GC, then the median of a few samples), RSS per device, the gateway's TCP connections
//      to the broker (/proc/net/tcp), the time to connect them all;
//   2. QoS 0 forwarding: --clients devices publish at rising --rates through the gateway, a subscriber counts
//      what reaches the broker: the highest rate without loss, CPU, RSS (after a warm-up that is not counted);
//   3. fan-out: --fanout of the connected devices subscribe to one topic; one broker message at QoS 0 and at
//      QoS 1; the time until each device has it (p50, p99, the last);
//   4. where transparent mode's memory per device goes: heap snapshots with --heap-devices and twice as many
//      devices, summed by constructor; what grew per device added, and how much of RSS is outside the V8 heap.
// Prints the load average first and last (a busy machine skews every figure), then a summary with met/MISSED
// per target. Never fails on time.
//
//   npm run bench:scale                      the full run (10,000 devices; several minutes)
//   npx tsx bench/scale.ts --devices 500 --fanout 100 --heap-devices 200 --rates 5000,10000 --seconds 2
//   options: --modes aggregating,transparent  --connections 8 (aggregating pool)  --window 100 (CONNECTs
//            outstanding)  --settle-ms 10000 (idle before RSS is read)  --phases memory,fanout,qos0,heap  --heap-modes transparent,aggregating
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { startMosquitto, type RunningMosquitto } from "../test/support/mosquitto";
import { closeDevices, connectDevices, forEachDevice, openDevices, type BatchOptions } from "./support/devices";
import { ensureFileLimit, fileLimits } from "./support/fd-limit";
import { fanOut, subscribeDevices, type FanOutFigures } from "./support/fan-out";
import { startGatewayProcess, type GatewayProcess, type Mode, type ProbeResult } from "./support/gateway-process";
import { growthPerDevice, summarizeHeapSnapshot, type GroupGrowth } from "./support/heap-summary";
import { loadLine, openFds, rssKb, sleep, tcpConnectionsTo } from "./support/proc";
import {
  describeRate,
  measureRate,
  offerQos0,
  startCountingSubscriber,
  type RateFigures,
} from "./support/qos0-forwarding";
import { BenchClient } from "./support/sn-client";
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "10000" },
    fanout: { type: "string", default: "1000" },
    clients: { type: "string", default: "100" },
    rates: { type: "string", default: "20000,40000,60000,80000" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "8" },
    window: { type: "string", default: "100" },
    modes: { type: "string", default: "aggregating,transparent" },
    phases: { type: "string", default: "memory,fanout,qos0,heap" },
    "heap-devices": { type: "string", default: "1000" },
    "settle-ms": { type: "string", default: "10000" },
    "heap-modes": { type: "string", default: "transparent,aggregating" },
  },
});
const DEVICES = Number(args.devices);
const FANOUT = Math.min(Number(args.fanout), DEVICES);
const CLIENTS = Number(args.clients);
const RATES = (args.rates as string).split(",").map(Number);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const MODES = (args.modes as string).split(",") as Mode[];
const PHASES = new Set((args.phases as string).split(","));
const HEAP_DEVICES = Number(args["heap-devices"]);
const SETTLE_MS = Number(args["settle-ms"]);
const HEAP_MODES = (args["heap-modes"] as string).split(",") as Mode[];

/** Keep-alive of every device (s): longer than the run, so no device is lost while it is idle. */
const KEEP_ALIVE_S = 3600;
const BATCH: BatchOptions = { window: Number(args.window), timeoutMs: 10_000, attempts: 3 };
const FANOUT_TOPIC = "bench/fanout/all";
const WARM_UP = { phase: "warmup", seconds: 2 };
const WARM_UP_DEVICES = 200;
const FANOUT_TIMEOUT_MS = 10_000;

/** Targets of issue 13. */
const TARGET = {
  devices: 10_000,
  aggregatingKbPerDevice: 2,
  aggregatingConnections: 8,
  transparentKbPerDevice: 12,
  aggregatingQos0PerS: 60_000,
  fanOutMs: 1000,
};

interface MemoryFigures {
  mode: Mode;
  connected: number;
  failed: number;
  retries: number;
  firstError: string | undefined;
  connectMs: number;
  idleKb: number;
  connectedKb: number;
  /** process.memoryUsage() after the GC, idle and with the devices. */
  idleMemory: ProbeResult["memory"];
  connectedMemory: ProbeResult["memory"];
  brokerConnections: number;
  gatewayFds: number;
}

interface ModeResults {
  memory?: MemoryFigures;
  fanOut: FanOutFigures[];
  rates: RateFigures[];
}

function gatewayConfig(maxClients: number): Record<string, unknown> {
  return {
    // Every device is on 127.0.0.1: one source for the per-source limits.
    limits: {
      maxClients,
      maxInflight: 1000,
      maxHandshakesPerSource: 1_000_000,
      maxConnectsPerSecondPerSource: 1_000_000,
    },
    timers: { advertiseIntervalS: 0 },
    sleep: { store: { path: "" } },
    aggregating: { connections: CONNECTIONS },
  };
}

function startGateway(mosquitto: RunningMosquitto, mode: Mode, maxClients: number): Promise<GatewayProcess> {
  return startGatewayProcess({ brokerUrl: mosquitto.url, mode, config: gatewayConfig(maxClients) });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * The gateway's RSS (KiB) once settled: a full GC, SETTLE_MS idle (V8 gives back heap it reserved while
 * growing only after a while), a full GC again, then the median of five samples over two seconds.
 */
async function settledRssKb(gw: GatewayProcess): Promise<{ kb: number; memory: ProbeResult["memory"] }> {
  await gw.probe("gc");
  await sleep(SETTLE_MS);
  const probed = await gw.probe("gc");
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(400);
    samples.push(rssKb(gw.pid));
  }
  return { kb: median(samples), memory: probed.memory };
}

function printWarnings(gw: GatewayProcess): void {
  const w = gw.warnings();
  if (w.count === 0) return;
  console.log(`  the gateway logged ${w.count} lines on stderr; the first:`);
  for (const line of w.first) console.log(`    ${line}`);
}

/**
 * WARM_UP_DEVICES connect and disconnect before the idle figure is taken: the first devices page in the
 * code that serves them (about 4 MB of the node binary) and have it compiled, which would otherwise be
 * counted as memory per device.
 */
async function warmUp(gw: GatewayProcess, mode: Mode): Promise<void> {
  const devices = await openDevices(WARM_UP_DEVICES, gw.udpPort);
  try {
    await connectDevices(devices, `warm-${mode}`, KEEP_ALIVE_S, BATCH);
    await forEachDevice(devices, BATCH, (d, _i, timeoutMs) => d.disconnect(timeoutMs));
  } finally {
    closeDevices(devices);
  }
}

async function measureMemory(
  gw: GatewayProcess,
  mosquitto: RunningMosquitto,
  mode: Mode,
): Promise<{
  figures: MemoryFigures;
  devices: BenchClient[];
}> {
  await warmUp(gw, mode);
  const idle = await settledRssKb(gw);
  const devices = await openDevices(DEVICES, gw.udpPort);
  const outcome = await connectDevices(devices, `scale-${mode}`, KEEP_ALIVE_S, BATCH);
  const connected = await settledRssKb(gw);
  const figures: MemoryFigures = {
    mode,
    connected: outcome.done,
    failed: outcome.failed,
    retries: outcome.retries,
    firstError: outcome.firstError,
    connectMs: outcome.ms,
    idleKb: idle.kb,
    connectedKb: connected.kb,
    idleMemory: idle.memory,
    connectedMemory: connected.memory,
    brokerConnections: tcpConnectionsTo(gw.pid, mosquitto.port),
    gatewayFds: openFds(gw.pid),
  };
  return { figures, devices };
}

function mb(octets: number): string {
  return (octets / 1024 / 1024).toFixed(1);
}

function printMemory(f: MemoryFigures): void {
  const perDevice = (f.connectedKb - f.idleKb) / f.connected;
  const grown = (pick: (m: ProbeResult["memory"]) => number): number =>
    (pick(f.connectedMemory) - pick(f.idleMemory)) / 1024 / f.connected;
  const heapTotal = grown((m) => m.heapTotal);
  const external = grown((m) => m.external);
  console.log(
    `  ${f.connected} of ${DEVICES} devices connected in ${(f.connectMs / 1000).toFixed(1)} s ` +
      `(${((f.connected / f.connectMs) * 1000).toFixed(0)}/s, ${BATCH.window} CONNECTs outstanding; ` +
      `${f.retries} sent again, ${f.failed} failed${f.firstError === undefined ? "" : `: ${f.firstError}`})`,
  );
  console.log(
    `  gateway RSS idle (after ${WARM_UP_DEVICES} devices came and went) ${(f.idleKb / 1024).toFixed(1)} MB, with the devices ${(f.connectedKb / 1024).toFixed(1)} MB: ` +
      `${perDevice.toFixed(2)} KB per device`,
  );
  console.log(
    `    of which, per device: V8 heap used ${grown((m) => m.heapUsed).toFixed(2)} KB, V8 heap reserved ` +
      `${heapTotal.toFixed(2)} KB, external ${external.toFixed(2)} KB, outside both ${(perDevice - heapTotal - external).toFixed(2)} KB ` +
      `(V8 heap used/reserved with the devices ${mb(f.connectedMemory.heapUsed)}/${mb(f.connectedMemory.heapTotal)} MB)`,
  );
  console.log(`  gateway's TCP connections to the broker ${f.brokerConnections}, its open files ${f.gatewayFds}`);
}

async function measureFanOut(mosquitto: RunningMosquitto, devices: BenchClient[]): Promise<FanOutFigures[]> {
  const subscribers = devices.slice(0, FANOUT);
  const subscribed = await subscribeDevices(subscribers, FANOUT_TOPIC, 1, BATCH);
  console.log(
    `  ${subscribed.done} devices subscribed to ${FANOUT_TOPIC} (QoS 1) in ${(subscribed.ms / 1000).toFixed(1)} s` +
      (subscribed.failed > 0 ? `, ${subscribed.failed} failed: ${subscribed.firstError}` : ""),
  );
  const publisher = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
  const out: FanOutFigures[] = [];
  try {
    for (const qos of [0, 1] as const) {
      await sleep(500);
      const f = await fanOut(publisher, subscribers, FANOUT_TOPIC, qos, qos + 1, FANOUT_TIMEOUT_MS);
      console.log(
        `  fan-out QoS ${qos}: ${f.received} of ${f.devices} devices have it; ` +
          `p50 ${f.p50Ms.toFixed(0)} ms, p99 ${f.p99Ms.toFixed(0)} ms, the last ${f.maxMs.toFixed(0)} ms after the publish`,
      );
      out.push(f);
    }
  } finally {
    await publisher.endAsync();
  }
  return out;
}

/** Phases 1 and 3 on one gateway: the devices connected for the memory figures then serve the fan-out. */
async function runDevices(mosquitto: RunningMosquitto, mode: Mode, results: ModeResults): Promise<void> {
  const gw = await startGateway(mosquitto, mode, DEVICES + 100);
  let devices: BenchClient[] = [];
  try {
    const measured = await measureMemory(gw, mosquitto, mode);
    devices = measured.devices;
    results.memory = measured.figures;
    printMemory(measured.figures);
    if (PHASES.has("fanout")) results.fanOut = await measureFanOut(mosquitto, devices);
    printWarnings(gw);
  } finally {
    closeDevices(devices);
    await gw.stop();
  }
}

async function runQos0(mosquitto: RunningMosquitto, mode: Mode, results: ModeResults): Promise<void> {
  const gw = await startGateway(mosquitto, mode, CLIENTS + 100);
  const sub = await startCountingSubscriber(mosquitto.url);
  const clients: BenchClient[] = [];
  try {
    for (let i = 0; i < CLIENTS; i++) clients.push(await BenchClient.open(gw.udpPort, 1 << 20));
    await connectDevices(clients, `rate-${mode}`, KEEP_ALIVE_S, BATCH);
    await Promise.all(
      clients.map(async (c, i) => {
        let msgId = 1;
        for (const rate of RATES) await c.register(`bench/q0r${rate}/${i}`, msgId++);
        await c.register(`bench/${WARM_UP.phase}/${i}`, msgId++);
      }),
    );
    // The processes compile their hot paths during the first second of traffic, as a gateway that has run a while has.
    await offerQos0(clients, WARM_UP.phase, RATES[0] as number, WARM_UP.seconds);
    await sleep(500);
    console.log(
      `  QoS 0 from ${CLIENTS} devices, paced for ${SECONDS} s per rate ` +
        `(after ${WARM_UP.seconds} s at ${(RATES[0] as number).toLocaleString("en")}/s to warm up, not counted):`,
    );
    for (const rate of RATES) {
      const f = await measureRate(clients, sub, gw, rate, SECONDS);
      console.log(`    ${describeRate(f)}`);
      results.rates.push(f);
      await sleep(500);
    }
    printWarnings(gw);
  } finally {
    closeDevices(clients);
    await sub.close();
    await gw.stop();
  }
}

/** Phase 4: heap snapshots with N and 2N devices connected; what grew per device, by constructor. */
async function runHeap(mosquitto: RunningMosquitto, mode: Mode): Promise<void> {
  const n = HEAP_DEVICES;
  const dir = mkdtempSync(join(tmpdir(), "mqttsn-scale-heap-"));
  const gw = await startGateway(mosquitto, mode, 2 * n + 100);
  let devices: BenchClient[] = [];
  try {
    devices = await openDevices(2 * n, gw.udpPort);
    const figures = [];
    for (const [half, name] of [
      [devices.slice(0, n), "a"],
      [devices.slice(n), "b"],
    ] as const) {
      const outcome = await connectDevices(half, `heap-${mode}-${name}`, KEEP_ALIVE_S, BATCH);
      if (outcome.failed > 0) console.log(`  ${outcome.failed} devices failed to connect: ${outcome.firstError}`);
      const file = join(dir, `${name}.heapsnapshot`);
      // RSS and heap figures first: writing a snapshot takes memory of its own.
      const settled = await settledRssKb(gw);
      await gw.probe(`snapshot ${file}`);
      figures.push({ file, memory: settled.memory });
    }
    printHeapGrowth(n, figures[0] as HeapPoint, figures[1] as HeapPoint);
    printWarnings(gw);
  } finally {
    closeDevices(devices);
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface HeapPoint {
  file: string;
  memory: { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
}

function printHeapGrowth(n: number, a: HeapPoint, b: HeapPoint): void {
  const per = (x: number, y: number): string => ((y - x) / n / 1024).toFixed(2);
  const heapTotal = (b.memory.heapTotal - a.memory.heapTotal) / 1024 / n;
  const external = (b.memory.external - a.memory.external) / 1024 / n;
  console.log(`  from ${n} to ${2 * n} devices, per device added (KB):`);
  console.log(
    `    V8 heap used ${per(a.memory.heapUsed, b.memory.heapUsed)}, heap reserved ${heapTotal.toFixed(2)}; ` +
      `external ${external.toFixed(2)} (of which ArrayBuffers ${per(a.memory.arrayBuffers, b.memory.arrayBuffers)}) ` +
      `(RSS: see the first part; writing a snapshot takes memory of its own)`,
  );
  const before = summarizeHeapSnapshot(a.file);
  const after = summarizeHeapSnapshot(b.file);
  const growth = growthPerDevice(before.byGroup, after.byGroup, n);
  const total = growth.reduce((sum, g) => sum + g.bytesPerDevice, 0);
  console.log(`    V8 heap, what grew per device added (${total.toFixed(0)} B in all), by constructor, largest first:`);
  printGrowth(growth.slice(0, 20));
  console.log("    the same by what holds them (constructor ← holder.property ← …):");
  printGrowth(growthPerDevice(before.byHolder, after.byHolder, n).slice(0, 30));
}

function printGrowth(growth: GroupGrowth[]): void {
  for (const g of growth)
    console.log(
      `      ${g.bytesPerDevice.toFixed(0).padStart(6)} B  ${g.countPerDevice.toFixed(2).padStart(6)} objects  ${g.group.slice(0, 150)}`,
    );
}

function verdict(met: boolean): string {
  return met ? "met" : "MISSED";
}

function bestLossless(rates: RateFigures[]): number {
  return Math.max(0, ...rates.filter((r) => r.delivered >= r.sent).map((r) => r.rate));
}

function summaryRows(results: Map<Mode, ModeResults>): string[][] {
  const rows: string[][] = [];
  for (const [mode, r] of results) {
    const m = r.memory;
    if (m !== undefined) {
      const kb = (m.connectedKb - m.idleKb) / m.connected;
      const all = m.connected === DEVICES && DEVICES >= TARGET.devices;
      rows.push([`${mode}: ${TARGET.devices} devices connected`, `${m.connected} of ${DEVICES}`, verdict(all)]);
      const limit = mode === "aggregating" ? TARGET.aggregatingKbPerDevice : TARGET.transparentKbPerDevice;
      rows.push([`${mode}: RSS per device <= ${limit} KB`, `${kb.toFixed(2)} KB`, verdict(kb <= limit)]);
      if (mode === "aggregating")
        rows.push([
          `aggregating: <= ${TARGET.aggregatingConnections} broker connections`,
          String(m.brokerConnections),
          verdict(m.brokerConnections <= TARGET.aggregatingConnections),
        ]);
    }
    for (const f of r.fanOut) {
      const ok = f.received === f.devices && f.maxMs <= TARGET.fanOutMs;
      rows.push([
        `${mode}: fan-out QoS ${f.qos} to ${f.devices} within 1 s`,
        `${f.received} got it, last ${f.maxMs.toFixed(0)} ms`,
        verdict(ok),
      ]);
    }
    if (r.rates.length > 0) {
      const best = bestLossless(r.rates);
      rows.push([
        `${mode}: QoS 0 without loss${mode === "aggregating" ? " >= 60,000/s" : " (for comparison)"}`,
        `${best.toLocaleString("en")}/s of ${RATES.map((x) => x.toLocaleString("en")).join(", ")}`,
        mode === "aggregating" ? verdict(best >= TARGET.aggregatingQos0PerS) : "-",
      ]);
    }
  }
  return rows;
}

function printSummary(results: Map<Mode, ModeResults>): void {
  const rows = summaryRows(results);
  const w0 = Math.max(...rows.map((r) => (r[0] as string).length), 6);
  const w1 = Math.max(...rows.map((r) => (r[1] as string).length), 8);
  console.log("");
  console.log(`${"target".padEnd(w0)}  ${"measured".padEnd(w1)}  verdict`);
  for (const [a, b, c] of rows) console.log(`${(a as string).padEnd(w0)}  ${(b as string).padEnd(w1)}  ${c}`);
  if (DEVICES < TARGET.devices)
    console.log(`(a run with fewer devices than the target names is marked MISSED on the count)`);
}

async function main(): Promise<void> {
  ensureFileLimit(Math.max(DEVICES, 2 * HEAP_DEVICES) + 1024);
  const limits = fileLimits();
  console.log(`bench:scale: node ${process.version}; open-file limit ${limits.soft} (hard ${limits.hard})`);
  console.log(`start: ${loadLine()}`);
  const mosquitto = await startMosquitto([
    "max_connections -1",
    "max_queued_messages 1000000",
    "max_inflight_messages 0",
  ]);
  const results = new Map<Mode, ModeResults>();
  try {
    for (const mode of MODES) {
      const r: ModeResults = { fanOut: [], rates: [] };
      results.set(mode, r);
      if (!PHASES.has("memory") && !PHASES.has("fanout") && !PHASES.has("qos0")) continue;
      console.log("");
      console.log(`== ${mode}${mode === "aggregating" ? ` (${CONNECTIONS} shared connections)` : ""}: ${loadLine()}`);
      if (PHASES.has("memory") || PHASES.has("fanout")) await runDevices(mosquitto, mode, r);
      if (PHASES.has("qos0")) await runQos0(mosquitto, mode, r);
    }
    if (PHASES.has("heap"))
      for (const mode of HEAP_MODES) {
        console.log("");
        console.log(`== where ${mode} mode's memory per device goes: ${loadLine()}`);
        await runHeap(mosquitto, mode);
      }
  } finally {
    await mosquitto.stop();
  }
  printSummary(results);
  console.log(`end: ${loadLine()}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
