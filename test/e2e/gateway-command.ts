import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const command = fileURLToPath(new URL("../../bin/mqttsn-gateway.js", import.meta.url));

/** A UDP port free right now on 127.0.0.1 (bound, then released), so a restarted gateway listens where devices send. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Writes a gateway config file (JSON) and returns its path. */
export async function writeGatewayConfig(path: string, config: Record<string, unknown>): Promise<string> {
  await writeFile(path, JSON.stringify(config));
  return path;
}

export interface GatewayCommand {
  child: ChildProcess;
  /** The broker URL from the ready line. */
  brokerUrl: string;
  /** Everything written to stderr so far (JSON log lines). */
  stderr(): string;
  /** Settles with the exit code (null when ended by a signal). */
  exited: Promise<number | null>;
  /** SIGKILL: no chance to flush or close anything; settles when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Starts the real mqttsn-gateway command (bin/mqttsn-gateway.js) with args and waits for its ready line. */
export async function startGatewayCommand(args: string[]): Promise<GatewayCommand> {
  const child = spawn(process.execPath, [command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let gone = false;
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      gone = true;
      resolve(code);
    }),
  );
  const brokerUrl = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /broker (mqtt:\/\/[^\s;]+)/.exec(stdout);
      if (m !== null) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`mqttsn-gateway exited (${code}) before it was ready: ${stderr}`)));
  });
  const signal = async (name: NodeJS.Signals, escalateMs?: number): Promise<void> => {
    if (gone) return;
    const timer = escalateMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), escalateMs);
    child.kill(name);
    await exited;
    if (timer !== undefined) clearTimeout(timer);
  };
  return {
    child,
    brokerUrl,
    stderr: () => stderr,
    exited,
    kill: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM", 5000),
  };
}
