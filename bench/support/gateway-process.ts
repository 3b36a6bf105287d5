// The gateway as its own process, the way it is installed (node on the bundle in dist/), with the probe of
// bench/support/gateway-probe.mjs loaded, so that the benchmark can collect its garbage, read its heap figures
// and take heap snapshots without a change to the gateway.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureGatewayBundle, GATEWAY_BUNDLE } from "../../test/support/gateway-bundle";
import { sleep } from "./proc";

const PROBE = fileURLToPath(new URL("./gateway-probe.mjs", import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 120_000;

/**
 * glibc's malloc arenas, as `npm start` and the systemd unit set them (MALLOC_ARENA_MAX, unless the
 * environment sets it): V8's helper threads would otherwise each keep an arena of freed memory.
 */
export const MALLOC_ARENAS = process.env.MALLOC_ARENA_MAX ?? "2";

export type Mode = "transparent" | "aggregating";

/** What the probe reports after each command: process.memoryUsage() and v8.getHeapStatistics(). */
export interface ProbeResult {
  command: string;
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
  heap: { total_heap_size: number; used_heap_size: number; malloced_memory: number };
}

export interface GatewayProcess {
  pid: number;
  udpPort: number;
  /** Lines the gateway wrote on stderr (its warnings), the first few of them, and how many in all. */
  warnings(): { first: string[]; count: number };
  /** Runs a probe command in the gateway ("gc" or "snapshot FILE") and returns its memory figures after it. */
  probe(command: string): Promise<ProbeResult>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  brokerUrl: string;
  mode: Mode;
  /** The gateway's config file, as an object (gateway/config.ts). */
  config: Record<string, unknown>;
}

export async function startGatewayProcess(options: GatewayOptions): Promise<GatewayProcess> {
  ensureGatewayBundle();
  const dir = mkdtempSync(join(tmpdir(), "mqttsn-scale-"));
  const configFile = join(dir, "gateway.json");
  writeFileSync(configFile, JSON.stringify(options.config));
  const child = spawn(
    process.execPath,
    [
      "--expose-gc",
      "--import",
      PROBE,
      GATEWAY_BUNDLE,
      "--udp",
      "127.0.0.1:0",
      "--broker",
      options.brokerUrl,
      "--mode",
      options.mode,
      "--config",
      configFile,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, MALLOC_ARENA_MAX: MALLOC_ARENAS, MQTTSN_PROBE_DIR: dir },
    },
  );
  const stderr = collectLines(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const udpPort = await readyPort(child, exited, stderr);
  const pid = child.pid as number;
  return {
    pid,
    udpPort,
    warnings: () => ({ first: stderr.first, count: stderr.count }),
    probe: (command) => probe(pid, dir, command),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function collectLines(child: ChildProcess): { first: string[]; count: number } {
  const lines = { first: [] as string[], count: 0 };
  let rest = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    const parts = (rest + text).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) {
      lines.count++;
      if (lines.first.length < 5) lines.first.push(line.slice(0, 300));
    }
  });
  return lines;
}

/** Waits for the ready line on stdout and returns the UDP port the gateway bound. */
function readyPort(child: ChildProcess, exited: Promise<void>, stderr: { first: string[] }): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the gateway printed no ready line")), READY_TIMEOUT_MS);
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      out += text;
      const m = /ready: MQTT-SN on udp [\d.]+:(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      resolve(Number(m[1]));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited before it was ready: ${stderr.first.join("\n")}`));
    });
  });
}

async function probe(pid: number, dir: string, command: string): Promise<ProbeResult> {
  const result = join(dir, "result.json");
  rmSync(result, { force: true });
  writeFileSync(join(dir, "command"), command);
  process.kill(pid, "SIGUSR2");
  const deadline = Date.now() + PROBE_TIMEOUT_MS;
  while (!existsSync(result)) {
    if (Date.now() > deadline) throw new Error(`the gateway's probe did not answer "${command}"`);
    await sleep(50);
  }
  return JSON.parse(readFileSync(result, "utf8")) as ProbeResult;
}
