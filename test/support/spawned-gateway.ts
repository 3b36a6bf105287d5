import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The gateway command of this checkout. */
export const GATEWAY_BIN = fileURLToPath(new URL("../../bin/mqttsn-gateway.js", import.meta.url));

const READY = /ready: MQTT-SN on udp ([^\s,;]+)[^\n]*\n/;

export interface SpawnedGateway {
  /** The first UDP address of the ready line, once it came. */
  udp(): string;
  stdout(): string;
  stderr(): string;
  /** The JSON log records on stderr, parsed. */
  records(): Array<Record<string, unknown>>;
  /** Lines of stderr that are not JSON records. */
  foreignLines(): string[];
  /** Waits for the ready line; rejects with what was printed if the process ends first or after timeoutMs. */
  ready(timeoutMs?: number): Promise<string>;
  /** Settles with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** SIGTERM (SIGKILL after 5 s) and the exit code. */
  stop(): Promise<number | string>;
}

/**
 * Runs a command line that starts the gateway, as given (a wrapper such as setpriv first, if any), in
 * `cwd` with exactly `env`: for tests of how the gateway runs where it is installed, not of its logic.
 */
export function spawnGateway(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
  child.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
  const exited = new Promise<number | string>((resolve) =>
    child.once("close", (code, signal) => resolve(code ?? signal ?? "unknown")),
  );
  let done = false;
  void exited.then(() => (done = true));
  const lines = (): string[] => stderr.split("\n").filter((l) => l.trim() !== "");
  const parse = (line: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(line);
      return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const gateway: SpawnedGateway = {
    udp: () => READY.exec(stdout)?.[1] ?? "",
    stdout: () => stdout,
    stderr: () => stderr,
    records: () =>
      lines().flatMap((l) => {
        const record = parse(l);
        return record === undefined ? [] : [record];
      }),
    foreignLines: () => lines().filter((l) => parse(l) === undefined),
    exited,
    ready: async (timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!READY.test(stdout)) {
        if (done || Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new Error(`the gateway did not get ready (${done ? "it ended" : "timeout"}):\n${stdout}\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      return (READY.exec(stdout)?.[0] ?? "").trim();
    },
    stop: async () => {
      if (done) return exited;
      const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.kill("SIGTERM");
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
  return gateway;
}
