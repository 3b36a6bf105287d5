import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const command = fileURLToPath(new URL("../../bin/mqttsn-gateway.js", import.meta.url));

/** The real mqttsn-gateway command, running: its output collected as it comes. */
export interface SpawnedGateway {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Settles with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

/** Starts `node bin/mqttsn-gateway.js ARGS`, without waiting for anything. */
export function spawnGateway(args: string[]): SpawnedGateway {
  const child = spawn(process.execPath, [command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** One JSON log record of the gateway (stderr, one per line). */
export interface LogRecord {
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface GatewayProcess extends SpawnedGateway {
  /** The UDP address it serves, "127.0.0.1:PORT". */
  udp: string;
  brokerUrl: string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** The log records so far, parsed; lines that are not log records are left out (see foreignOutput). */
  records(): LogRecord[];
  /**
   * Lines of stderr that are not JSON log records: what Node prints for an uncaught exception or an
   * unhandled rejection (the error, its stack). A healthy gateway writes nothing else there.
   */
  foreignOutput(): string[];
  /** Sends the signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Settles as `p` does, or rejects at once (with what the process printed) if the gateway exits first. */
  whileRunning<T>(p: Promise<T>): Promise<T>;
}

/** A UDP port free right now on 127.0.0.1 (bound, then released), so a restarted gateway listens where devices send. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Writes a gateway config file (JSON) into dir and returns its path. */
export async function writeConfig(dir: string, name: string, config: object): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

function parseLine(line: string): LogRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === "object" && value !== null && typeof (value as LogRecord).event === "string")
      return value as LogRecord;
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Starts the real command on 127.0.0.1 with a config file and waits for its ready line. `port` 0 lets the
 * gateway choose (the ready line names it); give a fixed one to restart a gateway where devices send.
 */
export async function startGatewayProcess(options: {
  configFile: string;
  broker: string;
  port?: number;
  logLevel?: "debug" | "info" | "warn";
  readyTimeoutMs?: number;
}): Promise<GatewayProcess> {
  const spawned = spawnGateway([
    "--udp",
    `127.0.0.1:${options.port ?? 0}`,
    "--broker",
    options.broker,
    "--config",
    options.configFile,
    "--log-level",
    options.logLevel ?? "info",
  ]);
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let ready: RegExpExecArray | null = null;
  while (ready === null) {
    ready = /ready: MQTT-SN on udp (\S+?);.*broker (mqtts?:\/\/\S+)/.exec(spawned.stdout());
    if (ready !== null) break;
    if (spawned.child.exitCode !== null || spawned.child.signalCode !== null || Date.now() > deadline) {
      spawned.child.kill("SIGKILL");
      throw new Error(
        `mqttsn-gateway not ready within ${timeoutMs} ms (exit ${spawned.child.exitCode}); stderr: ${spawned.stderr()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const lines = (): string[] =>
    spawned
      .stderr()
      .split("\n")
      .filter((l) => l.length > 0);
  const records = (): LogRecord[] =>
    lines()
      .map(parseLine)
      .filter((r): r is LogRecord => r !== undefined);
  return {
    ...spawned,
    udp: ready[1] as string,
    brokerUrl: ready[2] as string,
    alive: () => spawned.child.exitCode === null && spawned.child.signalCode === null,
    records,
    foreignOutput: () => lines().filter((l) => parseLine(l) === undefined),
    whileRunning: <T>(p: Promise<T>) =>
      Promise.race([
        p,
        spawned.exited.then((code): never => {
          const foreign = lines().filter((l) => parseLine(l) === undefined);
          throw new Error(`mqttsn-gateway exited (code ${code}) while it was needed:\n${foreign.join("\n")}`);
        }),
      ]),
    stop: async (signal = "SIGTERM") => {
      if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill(signal);
      return spawned.exited;
    },
  };
}

/** Waits until condition() holds, polling; throws naming `what` after timeoutMs. */
export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
