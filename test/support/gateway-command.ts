import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testMode } from "./upstream-mode";
import { ensureGatewayBundle } from "./gateway-bundle";

/**
 * The command as installed: the bin on plain node, running the bundle dist/gateway/main.js, so the tests run what
 * ships. test/support/global-setup.ts builds the bundle from the sources before any suite starts; outside vitest
 * the first spawn builds it when a source is newer.
 */
const command = fileURLToPath(new URL("../../bin/mqttsn-gateway.js", import.meta.url));

/** How many lines of stderr that are not log records, and how many last lines, are kept. */
const KEPT_LINES = 40;
/** SIGTERM gives the gateway this long to close before SIGKILL ends it. */
const STOP_GRACE_MS = 5000;
const POLL_MS = 25;
/** The one line the gateway prints on stdout once it serves: its first UDP address and its broker. */
const READY = /[^\n]*ready: MQTT-SN on udp ([^\s,;]*)[^\n]*?broker (mqtts?:\/\/[^\s;]+)[^\n]*\n/;

/** One JSON log record of the gateway (stderr, one per line). */
export interface LogRecord {
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface GatewayOptions {
  /** Command-line flags: --udp, --broker, --log-level … */
  args?: readonly string[];
  /** Written as JSON to a temporary file given as --config; the file is removed when the process ends. */
  config?: object;
  /**
   * Append stderr to this file as it arrives instead of keeping it in memory (for long runs): stderr() and
   * records() then throw; foreignOutput(), tail() and onLine work as ever.
   */
  stderrFile?: string;
  /** Called with every line of stderr as it arrives, and its log record when it is one. */
  onLine?: (line: string, record: LogRecord | undefined) => void;
}

/** The ready line's content. */
export interface Ready {
  readyLine: string;
  /** The first UDP address the gateway serves, "127.0.0.1:PORT". */
  udp: string;
  brokerUrl: string;
}

/** The real mqttsn-gateway command (bin/mqttsn-gateway.js), running or ended. */
export interface GatewayCommand {
  pid: number;
  stdout(): string;
  stderr(): string;
  /** The log records so far, parsed. */
  records(): readonly LogRecord[];
  /**
   * The first lines of stderr that are not log records: what Node prints for an uncaught exception or an
   * unhandled rejection (the error, its stack). A healthy gateway writes nothing else there.
   */
  foreignOutput(): string[];
  /** The last lines of stderr. */
  tail(): string[];
  /** Settles with the exit code (null when a signal ended it) once the process and its output are gone. */
  exited: Promise<number | null>;
  alive(): boolean;
  /** "running", "exit code N" or "signal NAME". */
  exitStatus(): string;
  /** Resident set size in MB (VmRSS of /proc/PID/status), undefined once the process is gone. */
  rssMb(): number | undefined;
  /** Sends the signal (SIGKILL follows SIGTERM after 5 s) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Settles as `p` does, or rejects at once (with what the process printed) if the gateway ends first. */
  whileRunning<T>(p: Promise<T>): Promise<T>;
  /** Polls until condition() holds; rejects naming `what` after timeoutMs, or at once if the gateway ends. */
  waitFor(what: string, condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Waits for the ready line; SIGKILL and a rejection if it has not come within timeoutMs or the process ended. */
  ready(timeoutMs?: number): Promise<Ready>;
}

export type StartedGateway = GatewayCommand & Ready;

/** A UDP port free right now on 127.0.0.1 (bound, then released), so a restarted gateway listens where devices send. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Starts the command and waits for its ready line. */
export async function startGatewayCommand(
  options: GatewayOptions & { readyTimeoutMs?: number },
): Promise<StartedGateway> {
  const gateway = await spawnGatewayCommand(options);
  const ready = await gateway.ready(options.readyTimeoutMs);
  return { ...gateway, ...ready };
}

/** --mode with the suites' mode, unless the flags or a config (given or in a --config file) name a mode. */
function modeFlags(options: GatewayOptions): string[] {
  if (testMode === "transparent") return [];
  const args = options.args ?? [];
  if (args.includes("--mode") || (options.config !== undefined && "mode" in options.config)) return [];
  const file = args[args.indexOf("--config") + 1];
  if (
    args.includes("--config") &&
    file !== undefined &&
    existsSync(file) &&
    readFileSync(file, "utf8").includes('"mode"')
  )
    return [];
  return ["--mode", testMode];
}

/** Starts the command without waiting for anything (for one that is expected to refuse to start). */
export async function spawnGatewayCommand(options: GatewayOptions): Promise<GatewayCommand> {
  ensureGatewayBundle();
  const args = [...(options.args ?? []), ...modeFlags(options)];
  let configDir: string | undefined;
  if (options.config !== undefined) {
    configDir = await mkdtemp(join(tmpdir(), "mqttsn-gateway-config-"));
    const file = join(configDir, "config.json");
    await writeFile(file, JSON.stringify(options.config));
    args.unshift("--config", file);
  }
  const child = spawn(process.execPath, [command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const inMemory = options.stderrFile === undefined;
  let stdout = "";
  let stderr = "";
  let partial = "";
  const records: LogRecord[] = [];
  const foreign: string[] = [];
  const tail: string[] = [];
  const takeLine = (line: string): void => {
    if (line.trim() === "") return;
    tail.push(line);
    if (tail.length > KEPT_LINES) tail.shift();
    const record = parseRecord(line);
    if (record === undefined && foreign.length < KEPT_LINES) foreign.push(line);
    if (record !== undefined && inMemory) records.push(record);
    options.onLine?.(line, record);
  };
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    if (options.stderrFile !== undefined) appendFileSync(options.stderrFile, text);
    else stderr += text;
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) takeLine(line);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      takeLine(partial);
      partial = "";
      resolve(code);
    }),
  );
  if (configDir !== undefined) {
    const dir = configDir;
    void exited.then(() => rm(dir, { recursive: true, force: true }));
  }

  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const exitStatus = (): string =>
    child.signalCode !== null
      ? `signal ${child.signalCode}`
      : child.exitCode !== null
        ? `exit code ${child.exitCode}`
        : "running";
  const printed = (): string => (foreign.length > 0 ? foreign : tail).join("\n");
  const ended = (): Error => new Error(`mqttsn-gateway ended (${exitStatus()}) while it was needed:\n${printed()}`);
  const notKept = (what: string): never => {
    throw new Error(`${what} of mqttsn-gateway went to ${options.stderrFile}, not into memory`);
  };

  return {
    pid: child.pid as number,
    stdout: () => stdout,
    stderr: () => (inMemory ? stderr : notKept("stderr")),
    records: () => (inMemory ? records : notKept("the log records")),
    foreignOutput: () => [...foreign],
    tail: () => [...tail],
    exited,
    alive,
    exitStatus,
    rssMb: () => rssMb(child.pid as number),
    stop: async (signal = "SIGTERM") => {
      if (!alive()) return exited;
      const escalate = signal === "SIGKILL" ? undefined : setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      child.kill(signal);
      const code = await exited;
      clearTimeout(escalate);
      return code;
    },
    whileRunning: <T>(p: Promise<T>) =>
      Promise.race([
        p,
        exited.then((): never => {
          throw ended();
        }),
      ]),
    waitFor: async (what, condition, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (!alive()) throw ended();
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
    ready: async (timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = READY.exec(stdout);
        if (m !== null) return { readyLine: m[0].trimEnd(), udp: m[1] as string, brokerUrl: m[2] as string };
        if (!alive() || Date.now() > deadline) {
          const why = alive() ? `not ready within ${timeoutMs} ms` : `ended (${exitStatus()}) before it was ready`;
          child.kill("SIGKILL");
          throw new Error(`mqttsn-gateway ${why}; stderr:\n${printed()}`);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
  };
}

function parseRecord(line: string): LogRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === "object" && value !== null && typeof (value as LogRecord).event === "string")
      return value as LogRecord;
  } catch {
    return undefined;
  }
  return undefined;
}

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}
