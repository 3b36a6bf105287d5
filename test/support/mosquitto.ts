import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunningMosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts `mosquitto -c <temp conf>` on a free port of 127.0.0.1 (anonymous clients allowed), waits until
 * it accepts connections, and stops it (SIGTERM, then SIGKILL) with stop(). Needs the mosquitto binary.
 */
export async function startMosquitto(extraConfig: string[] = []): Promise<RunningMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), "mosquitto-"));
  let lastStderr = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(
      conf,
      [
        `listener ${port} 127.0.0.1`,
        "allow_anonymous true",
        "persistence false",
        "log_dest none",
        ...extraConfig,
        "",
      ].join("\n"),
    );
    const child: ChildProcess = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    child.once("exit", () => (exited = true));
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline) {
      if (await accepts(port)) {
        return {
          url: `mqtt://127.0.0.1:${port}`,
          port,
          stop: () =>
            new Promise<void>((resolve) => {
              if (exited) {
                rmSync(dir, { recursive: true, force: true });
                resolve();
                return;
              }
              const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
              child.once("exit", () => {
                clearTimeout(kill);
                rmSync(dir, { recursive: true, force: true });
                resolve();
              });
              child.kill("SIGTERM");
            }),
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    lastStderr = stderr;
    if (!exited && attempt === 4) throw new Error(`mosquitto did not accept connections on port ${port}: ${stderr}`);
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`mosquitto could not be started on a free port after 5 attempts: ${lastStderr}`);
}
