import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { freeUdpPort, startGatewayCommand, type StartedGateway } from "../support/gateway-command";
import { startMosquitto, type RunningMosquitto } from "../support/mosquitto";
import { DatagramStream } from "./datagrams";
import type { FuzzWorld } from "./messages";
import { probeGateway } from "./probe";
import { Sources } from "./sources";
import { newStderrScan, scanLine, type StderrScan } from "./stderr-scan";
import { udpSocketStats } from "./udp-socket-stats";

export interface FuzzOptions {
  datagrams: number;
  /** Source sockets; the client id pool is half as large again. */
  clients: number;
  seed: string;
  broker: "embedded" | "mosquitto";
  /** Restart the gateway after a crash and count the crashes, instead of stopping at the first. */
  keepGoing: boolean;
  /** Fail when the gateway's resident set grows past this, in MB. */
  maxRssMb: number;
  /** Progress lines (every 10 %); nothing is printed without it. */
  report?: (line: string) => void;
}

export interface FuzzResult {
  passed: boolean;
  failures: string[];
  datagrams: number;
  seconds: number;
  /** Of those seconds, the time spent restarting the gateway after crashes (--keep-going). */
  restartSeconds: number;
  rate: number;
  peakRssMb: number;
  crashes: number;
  /** One line per crash: when, how it ended, the first exception lines. */
  crashReports: string[];
  /** Exception lines found on the gateway's stderr, all processes together (the first 40 of each). */
  exceptionLines: string[];
  /** Datagrams the gateway sent back to the sources. */
  responses: number;
  /** Datagrams the kernel dropped at the gateway's socket (receive buffer full). */
  udpDrops: number;
  /** Gateway log records by event name. */
  logEvents: Record<string, number>;
  /** Where the gateway's stderr was kept, when the run failed. */
  keptDir: string | undefined;
  summary: string;
}

/** Datagrams sent per turn of the event loop. */
const BURST = 16;
/** Pause sending while more than this many octets wait in the gateway's receive buffer. */
const QUEUE_HIGH = 96 * 1024;
const RSS_SAMPLE_MS = 250;

/** Topic ids every client may use without REGISTER (predefinedTopics.global), §2.3. */
const PREDEFINED: Record<string, number> = { "fuzz/predefined/1": 1, "fuzz/predefined/2": 2, "fuzz/predefined/50": 50 };

function gatewayConfig(storePath: string, clientIds: readonly string[]): object {
  return {
    timers: {
      advertiseIntervalS: 0,
      tRetryMs: 200,
      nRetry: 2,
      willHandshakeTimeoutMs: 500,
      upstreamConnectTimeoutMs: 2000,
    },
    predefinedTopics: { global: PREDEFINED, clients: { [clientIds[0] as string]: { "fuzz/own/0": 3 } } },
    sleep: { graceMs: 500, allowAddressChange: clientIds.slice(1, 3), store: { path: storePath } },
  };
}

/** One process of the gateway command and what its stderr held. */
type FuzzedGateway = StartedGateway & { scan: StderrScan };

/** The error line of a crash and the first frames under it, or the last lines when there is none. */
function excerpt(g: FuzzedGateway): string {
  const lines = g.scan.exceptionLines;
  const at = lines.findIndex((l) => /^\w*Error\b|Error:/.test(l.trim()));
  const chosen = at >= 0 ? lines.slice(at, at + 3) : lines.length > 0 ? lines.slice(0, 3) : g.tail().slice(-3);
  return chosen.map((l) => l.trim()).join(" | ");
}

/**
 * Starts a broker and the real gateway command, sends options.datagrams fuzzed datagrams from
 * options.clients sockets, then checks that the gateway is alive, serves a new client end to end,
 * stayed under the RSS bound and wrote no exception on stderr.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const report = options.report ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "mqttsn-fuzz-"));
  const poolSize = options.clients + Math.ceil(options.clients / 2);
  const world: FuzzWorld = {
    sources: options.clients,
    clientIds: Array.from({ length: poolSize }, (_, i) => `fz-${i}`),
    predefinedIds: Object.values(PREDEFINED),
  };
  const configFile = join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(gatewayConfig(join(dir, "store"), world.clientIds)));
  const stderrFile = join(dir, "gateway-stderr.log");

  let mosquitto: RunningMosquitto | undefined;
  let gateway: FuzzedGateway | undefined;
  let sources: Sources | undefined;
  let sampler: NodeJS.Timeout | undefined;
  const scans: StderrScan[] = [];
  const crashReports: string[] = [];
  const recorded = new WeakSet<FuzzedGateway>();
  /** Notes a gateway process that ended on its own, once. */
  const recordCrash = async (g: FuzzedGateway): Promise<string> => {
    await g.exited;
    const how = g.exitStatus();
    if (!recorded.has(g)) {
      recorded.add(g);
      crashReports.push(`after ${sent} datagrams: ${how}: ${excerpt(g)}`);
    }
    return how;
  };
  const failures: string[] = [];
  let peakRss = 0;
  let drops = 0;
  let sent = 0;
  let seconds = 0;
  let restartSeconds = 0;
  let passed = false;
  try {
    let brokerArgs = ["--broker", "embedded", "--embedded-port", "0"];
    if (options.broker === "mosquitto") {
      mosquitto = await startMosquitto();
      brokerArgs = ["--broker", mosquitto.url];
    }
    const port = await freeUdpPort();
    const start = async (): Promise<FuzzedGateway> => {
      const scan = newStderrScan();
      scans.push(scan);
      const g = await startGatewayCommand({
        args: ["--udp", `127.0.0.1:${port}`, "--config", configFile, "--log-level", "warn", ...brokerArgs],
        stderrFile,
        onLine: (line, record) => scanLine(scan, line, record),
      });
      return { ...g, scan };
    };
    gateway = await start();
    sources = await Sources.open(options.clients);
    const hosts = new Set(sources.addresses().map((a) => a.slice(0, a.lastIndexOf(":"))));
    report(
      `fuzzing ${gateway.udp} (pid ${gateway.pid}, broker ${options.broker} ${gateway.brokerUrl}) with ` +
        `${options.datagrams} datagrams from ${options.clients} sockets on ${[...hosts].join(", ")}, seed ${options.seed}`,
    );
    const sampleRss = (): number | undefined => {
      const rss = gateway === undefined ? undefined : gateway.rssMb();
      if (rss !== undefined && rss > peakRss) peakRss = rss;
      return rss;
    };
    sampleRss();
    sampler = setInterval(sampleRss, RSS_SAMPLE_MS);
    sampler.unref();

    const stream = new DatagramStream(options.seed, world);
    const began = Date.now();
    let socketDrops = 0;
    let nextTenth = 1;
    let bursts = 0;
    while (sent < options.datagrams) {
      if (!gateway.alive()) {
        const how = await recordCrash(gateway);
        report(`gateway crash ${crashReports.length} after ${sent} datagrams (${how})`);
        drops += socketDrops;
        socketDrops = 0;
        if (!options.keepGoing) break;
        const down = Date.now();
        gateway = await start();
        sampleRss();
        restartSeconds += (Date.now() - down) / 1000;
        continue;
      }
      for (let i = 0; i < BURST && sent < options.datagrams; i++) {
        const d = stream.next();
        sources.send(d.source, d.bytes, port, "127.0.0.1");
        sent++;
      }
      bursts++;
      if (bursts % 4 === 0) {
        let stats = udpSocketStats(port);
        if (stats !== undefined) socketDrops = stats.drops;
        while (stats !== undefined && stats.queued > QUEUE_HIGH && gateway.alive()) {
          await sleep(1);
          stats = udpSocketStats(port);
        }
      } else {
        await nextTurn();
      }
      if (sent >= (options.datagrams * nextTenth) / 10) {
        nextTenth++;
        const elapsed = (Date.now() - began) / 1000;
        const rss = sampleRss();
        report(
          `${Math.round((sent * 100) / options.datagrams)}%: ${sent} datagrams, ${Math.round(sent / elapsed)}/s, ` +
            `gateway RSS ${rss === undefined ? "gone" : rss.toFixed(1) + " MB"}, ` +
            `responses ${sources.received}, drops ${drops + socketDrops}, crashes ${crashReports.length}`,
        );
      }
    }
    seconds = (Date.now() - began) / 1000;

    // Let the gateway work off what is queued before judging it.
    const drainUntil = Date.now() + 15_000;
    for (;;) {
      const stats = udpSocketStats(port);
      if (stats !== undefined) socketDrops = stats.drops;
      if (stats === undefined || stats.queued === 0 || Date.now() > drainUntil || !gateway.alive()) break;
      await sleep(20);
    }
    drops += socketDrops;
    await sleep(500);
    sampleRss();

    const aliveAtEnd = gateway.alive();
    if (!aliveAtEnd) {
      const how = await recordCrash(gateway);
      failures.push(`the gateway is not running at the end (${how})`);
    } else {
      const probeId = `probe-${Date.now().toString(36)}`;
      const probeFailure = await probeGateway(gateway.udp, gateway.brokerUrl, probeId);
      if (probeFailure !== undefined) failures.push(`a new client ${probeId} was not served: ${probeFailure}`);
      sampleRss();
    }
    if (crashReports.length > 0)
      failures.push(`the gateway crashed ${crashReports.length} time(s); first: ${crashReports[0]}`);
    if (peakRss > options.maxRssMb)
      failures.push(`gateway RSS peaked at ${peakRss.toFixed(1)} MB, over the ${options.maxRssMb} MB bound`);
    const stopped = await gateway.stop();
    if (aliveAtEnd && stopped !== 0)
      failures.push(`the gateway did not stop cleanly on SIGTERM (${gateway.exitStatus()})`);
    const exceptions = scans.reduce((n, s) => n + s.exceptionCount, 0);
    if (exceptions > 0)
      failures.push(
        `the gateway's stderr holds ${exceptions} exception or non-log line(s), e.g. ${scans.flatMap((s) => s.exceptionLines)[0]}`,
      );
    passed = failures.length === 0;
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await sources?.close();
    await gateway?.stop();
    await mosquitto?.stop();
    if (passed) rmSync(dir, { recursive: true, force: true });
  }

  const logEvents: Record<string, number> = {};
  for (const scan of scans) for (const [event, n] of scan.events) logEvents[event] = (logEvents[event] ?? 0) + n;
  const rate = seconds > 0 ? sent / seconds : 0;
  const restarting =
    restartSeconds > 0
      ? ` (${restartSeconds.toFixed(1)} s restarting; ${Math.round(sent / (seconds - restartSeconds))}/s while up)`
      : "";
  const summary =
    `fuzz ${passed ? "PASS" : "FAIL"}: ${sent} datagrams in ${seconds.toFixed(1)} s${restarting}, ${Math.round(rate)}/s, ` +
    `peak gateway RSS ${peakRss.toFixed(1)} MB (bound ${options.maxRssMb} MB), crashes ${crashReports.length}, ` +
    `responses ${sources?.received ?? 0}, kernel drops ${drops}, seed ${options.seed}, broker ${options.broker}`;
  return {
    passed,
    failures,
    datagrams: sent,
    seconds,
    restartSeconds,
    rate,
    peakRssMb: peakRss,
    crashes: crashReports.length,
    crashReports,
    exceptionLines: scans.flatMap((s) => s.exceptionLines),
    responses: sources?.received ?? 0,
    udpDrops: drops,
    logEvents,
    keptDir: passed ? undefined : dir,
    summary,
  };
}
