// Start-up time and idle memory of the gateway command, the way it is started in practice: plain node on the
// bundle (dist/gateway/main.js, built by `npm run build`, which `npm ci` runs), the bin (what an installed
// package runs), and `npm start`; the sources through tsx (`npm run start:dev`) for comparison. Each way starts
// the gateway --runs times on fresh ports with the embedded broker and reports the median time from spawning
// the process to its ready line on stdout (node's own start-up included), and the resident memory (VmRSS) of
// the gateway process once it has been idle for a second (the target is judged on this one). Then --runs
// gateways through node dist/ run side by side for --settle-ms, and their RSS is read again: by then V8's memory
// reducer has given back the young generation it grew while starting, which is what a gateway idle for hours
// holds. Prints figures and the targets met or missed; never fails on them. Run it on a quiet machine: the load
// average is printed first and last.
//
//   npm run bench:startup   (or: npx tsx bench/startup.ts [--runs 5] [--idle-ms 1000] [--settle-ms 15000])
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureGatewayBundle, GATEWAY_BUNDLE } from "../test/support/gateway-bundle";
import { freeUdpPort } from "../test/support/gateway-command";
import { freePort } from "../test/support/mosquitto";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    "idle-ms": { type: "string", default: "1000" },
    "settle-ms": { type: "string", default: "15000" },
  },
});
const RUNS = Number(args.runs);
const IDLE_MS = Number(args["idle-ms"]);
const SETTLE_MS = Number(args["settle-ms"]);
const READY_TIMEOUT_MS = 30_000;

const repo = fileURLToPath(new URL("..", import.meta.url));

/** Targets from the issue that asked for the compiled build. */
const TARGET_READY_NODE_MS = 250;
const TARGET_READY_NPM_MS = 450;
const TARGET_RSS_MB = 60;

interface Way {
  name: string;
  command: string;
  args: (gatewayArgs: string[]) => string[];
  /** The process that is the gateway: the spawned one, or (npm start) its child. */
  throughNpm: boolean;
}

const ways: Way[] = [
  {
    name: "node dist/gateway/main.js",
    command: process.execPath,
    args: (a) => [GATEWAY_BUNDLE, ...a],
    throughNpm: false,
  },
  {
    name: "bin/mqttsn-gateway.js",
    command: process.execPath,
    args: (a) => [join(repo, "bin", "mqttsn-gateway.js"), ...a],
    throughNpm: false,
  },
  { name: "npm start", command: "npm", args: (a) => ["start", "--", ...a], throughNpm: true },
  {
    name: "sources through tsx (start:dev)",
    command: process.execPath,
    args: (a) => ["--import", "tsx", join(repo, "gateway", "main.ts"), ...a],
    throughNpm: false,
  },
];

interface Sample {
  readyMs: number;
  /** VmRSS of the gateway process after IDLE_MS. */
  rssMb: number;
  /** VmRSS of every process started (npm and the gateway for npm start). */
  treeRssMb: number;
}

function loadLine(): string {
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return `load average ${load} on ${cpus().length} cores`;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

function children(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(" ").map(Number);
}

/** The process and all its descendants. */
function tree(pid: number): number[] {
  return [pid, ...children(pid).flatMap(tree)];
}

interface Started {
  readyMs: number;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns the gateway one way on fresh ports and waits for its ready line. */
async function start(way: Way, dir: string): Promise<Started> {
  const gatewayArgs = [
    "--udp",
    `127.0.0.1:${await freeUdpPort()}`,
    "--embedded-port",
    String(await freePort()),
    "--config",
    join(dir, "config.json"),
  ];
  const t0 = performance.now();
  const child = spawn(way.command, way.args(gatewayArgs), { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${way.name}: no ready line in ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    child.stdout.setEncoding("utf8").on("data", (t: string) => {
      stdout += t;
      if (stdout.includes(" ready: ")) {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${way.name} exited before its ready line:\n${stderr}`));
    });
  });
  const stop = async (): Promise<void> => {
    child.kill("SIGTERM");
    await exited;
  };
  return { readyMs, pid: child.pid as number, stop };
}

/** The gateway's process: the spawned one, or the child npm runs the start script in. */
function gatewayPid(way: Way, started: Started): number {
  const pids = tree(started.pid);
  return way.throughNpm ? (pids[pids.length - 1] as number) : started.pid;
}

async function once(way: Way, dir: string): Promise<Sample> {
  const started = await start(way, dir);
  try {
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return {
      readyMs: started.readyMs,
      rssMb: rssMb(gatewayPid(way, started)),
      treeRssMb: tree(started.pid).reduce((sum, p) => sum + rssMb(p), 0),
    };
  } finally {
    await started.stop();
  }
}

/** Milliseconds from spawning the command to its exit. */
async function exitMs(command: string, commandArgs: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(command, commandArgs, { cwd, stdio: "ignore" });
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`${command} ${commandArgs.join(" ")} exited with ${code}`);
  return performance.now() - t0;
}

/** RSS of RUNS gateways started one after the other and left idle side by side for SETTLE_MS. */
async function settled(way: Way, dir: string): Promise<number[]> {
  const running: Started[] = [];
  try {
    for (let run = 0; run < RUNS; run++) running.push(await start(way, dir));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return running.map((started) => rssMb(gatewayPid(way, started)));
  } finally {
    await Promise.all(running.map((started) => started.stop()));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function verdict(value: number, target: number): string {
  return value <= target ? `target <= ${target} met` : `target <= ${target} MISSED`;
}

async function main(): Promise<void> {
  ensureGatewayBundle();
  const dir = mkdtempSync(join(tmpdir(), "mqttsn-bench-startup-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ sleep: { store: { path: join(dir, "sessions") } } }));
  console.log(`bench:startup: ${RUNS} runs per way, RSS after ${IDLE_MS} ms idle; node ${process.version}`);
  console.log(`before: ${loadLine()}`);
  const results = new Map<string, Sample[]>();
  let settledRss: number[] = [];
  // npm's own share: a package whose start script runs `node -e 0`, against `node -e 0` alone.
  const empty = join(dir, "empty-package");
  mkdirSync(empty);
  writeFileSync(
    join(empty, "package.json"),
    JSON.stringify({ name: "empty", version: "1.0.0", private: true, scripts: { start: "exec node -e 0" } }),
  );
  const bareNode: number[] = [];
  const bareNpm: number[] = [];
  try {
    // Round-robin, so that a burst of other work on the machine does not fall on one way only.
    for (let run = 0; run < RUNS; run++) {
      for (const way of ways) {
        const samples = results.get(way.name) ?? [];
        samples.push(await once(way, dir));
        results.set(way.name, samples);
      }
      bareNode.push(await exitMs(process.execPath, ["-e", "0"], empty));
      bareNpm.push(await exitMs("npm", ["start"], empty));
    }
    settledRss = await settled(ways[0] as Way, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("");
  console.log("way                              ready (median, min-max)   gateway RSS idle   all processes RSS");
  for (const way of ways) {
    const samples = results.get(way.name) ?? [];
    const ready = samples.map((s) => s.readyMs);
    console.log(
      `${way.name.padEnd(32)} ${median(ready).toFixed(0).padStart(5)} ms (${Math.min(...ready).toFixed(0)}-${Math.max(...ready).toFixed(0)})`.padEnd(
        59,
      ) +
        `${median(samples.map((s) => s.rssMb))
          .toFixed(1)
          .padStart(6)} MB`.padEnd(19) +
        `${median(samples.map((s) => s.treeRssMb))
          .toFixed(1)
          .padStart(6)} MB`,
    );
  }
  const med = (name: string, pick: (s: Sample) => number): number => median((results.get(name) ?? []).map(pick));
  console.log("");
  const nodeReady = med("node dist/gateway/main.js", (s) => s.readyMs);
  const npmReady = med("npm start", (s) => s.readyMs);
  const rss = med("node dist/gateway/main.js", (s) => s.rssMb);
  console.log(
    `ready line through node dist/: ${nodeReady.toFixed(0)} ms (${verdict(nodeReady, TARGET_READY_NODE_MS)})`,
  );
  console.log(`ready line through npm start:  ${npmReady.toFixed(0)} ms (${verdict(npmReady, TARGET_READY_NPM_MS)})`);
  console.log(
    `  of which npm's own: \`npm start\` of a script running \`node -e 0\` exits in ${median(bareNpm).toFixed(0)} ms, ` +
      `\`node -e 0\` alone in ${median(bareNode).toFixed(0)} ms`,
  );
  console.log(`gateway RSS idle, embedded broker: ${rss.toFixed(1)} MB (${verdict(rss, TARGET_RSS_MB)})`);
  console.log(
    `the same after ${SETTLE_MS / 1000} s idle (${RUNS} gateways side by side): ${median(settledRss).toFixed(1)} MB ` +
      `(${Math.min(...settledRss).toFixed(1)}-${Math.max(...settledRss).toFixed(1)})`,
  );
  console.log(`after: ${loadLine()}`);
}

await main();
