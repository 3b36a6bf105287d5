import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { appendFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const command = fileURLToPath(new URL("../../bin/mqttsn-gateway.js", import.meta.url));

/** Lines that betray an exception: error class names, stack frames, Node's fatal and uncaught reports. */
const EXCEPTION_LINE =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError|EvalError|URIError|AssertionError|AggregateError)\b|^\s+at\s|uncaught|unhandled|FATAL ERROR|\[ERR_[A-Z_]+\]/i;

/** What one gateway process wrote on stderr, scanned line by line as it arrives. */
export interface StderrScan {
  /**
   * Lines that are not a JSON log record (an uncaught exception, its stack, a Node warning, an error
   * while stopping) or that name an error class inside a record; the first 40 are kept.
   */
  exceptionLines: string[];
  exceptionCount: number;
  /** JSON log records by event name. */
  events: Map<string, number>;
  /** The last lines, for the context of a crash. */
  tail: string[];
}

export interface GatewayProcess {
  pid: number;
  /** The broker the gateway uses (the embedded one's URL when embedded). */
  brokerUrl: string;
  /** "127.0.0.1:PORT" the gateway listens on. */
  address: string;
  scan: StderrScan;
  /** Resolves when the process ends, with its exit code or signal. */
  exited: Promise<string>;
  alive(): boolean;
  /** SIGTERM (SIGKILL after 5 s); resolves with how it ended. */
  stop(): Promise<string>;
}

/** A UDP port free right now on 127.0.0.1 (bound, then released). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/**
 * Starts the real mqttsn-gateway command (bin/mqttsn-gateway.js) on 127.0.0.1:port with the config file
 * and broker flags given, logging at warn; waits for its ready line. Its stderr is appended to
 * stderrFile and scanned for exceptions.
 */
export async function startGatewayProcess(options: {
  port: number;
  configFile: string;
  brokerArgs: string[];
  stderrFile: string;
}): Promise<GatewayProcess> {
  const address = `127.0.0.1:${options.port}`;
  const child = spawn(
    process.execPath,
    [command, "--udp", address, "--config", options.configFile, "--log-level", "warn", ...options.brokerArgs],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const scan: StderrScan = { exceptionLines: [], exceptionCount: 0, events: new Map(), tail: [] };
  let partial = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    appendFileSync(options.stderrFile, text);
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) scanLine(scan, line);
  });
  let ended: string | undefined;
  const exited = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => {
      if (partial !== "") scanLine(scan, partial);
      ended = signal !== null ? `signal ${signal}` : `exit code ${code}`;
      resolve(ended);
    }),
  );
  let stdout = "";
  const brokerUrl = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      stdout += text;
      const m = /broker (mqtts?:\/\/[^\s;]+)/.exec(stdout);
      if (m !== null) resolve(m[1] as string);
    });
    void exited.then((how) =>
      reject(new Error(`mqttsn-gateway ended (${how}) before it was ready: ${scan.tail.join("\n")}`)),
    );
  });
  return {
    pid: child.pid as number,
    brokerUrl,
    address,
    scan,
    exited,
    alive: () => ended === undefined,
    stop: () => {
      if (ended !== undefined) return exited;
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.kill("SIGTERM");
      return exited.finally(() => clearTimeout(kill));
    },
  };
}

function scanLine(scan: StderrScan, line: string): void {
  if (line.trim() === "") return;
  scan.tail.push(line);
  if (scan.tail.length > 40) scan.tail.shift();
  let event: string | undefined;
  try {
    const record = JSON.parse(line) as { event?: unknown };
    if (typeof record === "object" && record !== null && typeof record.event === "string") event = record.event;
  } catch {
    event = undefined;
  }
  if (event !== undefined) scan.events.set(event, (scan.events.get(event) ?? 0) + 1);
  // The gateway writes only JSON log records on stderr: anything else is Node reporting an error.
  if (event === undefined || EXCEPTION_LINE.test(line)) {
    scan.exceptionCount++;
    if (scan.exceptionLines.length < 40) scan.exceptionLines.push(line);
  }
}

/** Resident set size of a process in MB (VmRSS of /proc/PID/status), undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** Octets waiting in, and datagrams dropped by, the receive buffer of the UDP socket bound to 127.0.0.1:port. */
export function udpSocketStats(port: number): { queued: number; drops: number } | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let text: string;
  try {
    text = readFileSync("/proc/net/udp", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== local) continue;
    const rx = (f[4] ?? "0:0").split(":")[1] ?? "0";
    return { queued: parseInt(rx, 16), drops: Number(f[f.length - 1]) };
  }
  return undefined;
}
