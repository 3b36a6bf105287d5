import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { NetNamespace } from "./netns";
import type { DeviceAnswer, DeviceRequest } from "./netns-device";

const DEVICE = fileURLToPath(new URL("./netns-device.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The device of netns-device.ts, running inside a namespace: publish() sends it one request and settles with its
 * answer. One process serves every request, so that tsx compiles it once.
 */
export class NamespaceDevice {
  private buffered = "";
  private readonly answers: string[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      this.buffered += text;
      const lines = this.buffered.split("\n");
      this.buffered = lines.pop() ?? "";
      this.answers.push(...lines.filter((l) => l.trim() !== ""));
      this.waiter?.();
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.once("close", () => {
      this.ended = true;
      if (stderr.trim() !== "") this.answers.push(JSON.stringify({ ok: false, error: stderr }));
      this.waiter?.();
    });
  }

  static start(ns: NetNamespace): NamespaceDevice {
    return new NamespaceDevice(ns.child(process.execPath, ["--import", "tsx", DEVICE], { cwd: REPO }));
  }

  async publish(request: DeviceRequest, timeoutMs = 15_000): Promise<DeviceAnswer> {
    this.child.stdin?.write(`${JSON.stringify(request)}\n`);
    const deadline = Date.now() + timeoutMs;
    while (this.answers.length === 0) {
      if (this.ended) throw new Error("the device process ended");
      if (Date.now() > deadline) throw new Error(`no answer from the device within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return JSON.parse(this.answers.shift() as string) as DeviceAnswer;
  }

  /** Ends the device (stdin closed) and waits for its exit. */
  async close(): Promise<void> {
    if (this.ended) return;
    const closed = new Promise((resolve) => this.child.once("close", resolve));
    this.child.stdin?.end();
    await closed;
  }
}
