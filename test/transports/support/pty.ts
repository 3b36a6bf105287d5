import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A kernel pseudo-terminal pair made by socat: what is written to one end is read from the other. */
export interface PtyPair {
  /** The end the link under test opens. */
  readonly a: string;
  /** The far end, driven by the test. */
  readonly b: string;
  /** Kills socat: both ends vanish, as when a USB adapter is unplugged. */
  stop(): Promise<void>;
  /** Starts socat again with the same link paths. */
  start(): Promise<void>;
  /** Stops socat and removes the directory. */
  dispose(): Promise<void>;
}

export async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), "mqttsn-pty-"));
  const a = join(dir, "a");
  const b = join(dir, "b");
  let child: ChildProcess | undefined;

  const start = async () => {
    for (const path of [a, b]) if (existsSync(path)) unlinkSync(path);
    child = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: "ignore" });
    const deadline = Date.now() + 5000;
    while (!(existsSync(a) && existsSync(b))) {
      if (Date.now() > deadline) throw new Error("socat did not create the pty pair within 5 s");
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once("exit", r));
    running.kill("SIGTERM");
    await exited;
  };
  await start();
  return {
    a,
    b,
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
