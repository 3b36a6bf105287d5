import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./mosquitto";

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
 * Mosquitto with `persistence true` in a temp directory, on one port for its whole life: stop() ends it
 * with SIGTERM (it writes its database on the way out) and start() brings it back on the same port with
 * the same database, so persistent sessions, their subscriptions and queued QoS 1/2 messages survive.
 * The broker logs every packet (log_type all) to stderr, which is kept: what the broker received, e.g.
 * a client's PUBACK, can be awaited without looking inside the gateway.
 */
export class PersistentMosquitto {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private logText = "";
  private partial = "";
  private readonly exchanges = new Map<string, { publishes: number; pubAcks: number; last: number }>();

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PersistentMosquitto> {
    const dir = mkdtempSync(join(tmpdir(), "mosquitto-persistent-"));
    // Started as root, mosquitto drops to its own user: the database directory must be writable for it.
    chmodSync(dir, 0o777);
    const m = new PersistentMosquitto(await freePort(), dir);
    writeFileSync(
      join(dir, "mosquitto.conf"),
      [
        `listener ${m.port} 127.0.0.1`,
        "allow_anonymous true",
        "persistence true",
        `persistence_location ${dir}/`,
        "log_dest stderr",
        "log_type all",
        "",
      ].join("\n"),
    );
    await m.start();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the broker (again) on the same port and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error("mosquitto is already running");
    const child = spawn("mosquitto", ["-c", join(this.dir, "mosquitto.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    let gone = false;
    child.stderr!.on("data", (d: Buffer) => this.onLog(d.toString()));
    this.exited = new Promise((resolve) =>
      child.once("exit", () => {
        gone = true;
        resolve();
      }),
    );
    const deadline = Date.now() + 10_000;
    while (!gone && Date.now() < deadline) {
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    this.child = undefined;
    throw new Error(`mosquitto did not accept connections on port ${this.port}: ${this.logText.slice(-2000)}`);
  }

  /** SIGTERM (mosquitto saves its database), SIGKILL after 10 s; settles when the process is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.kill("SIGTERM");
    await this.exited;
    clearTimeout(kill);
    this.child = undefined;
  }

  /** The broker's log since the first start. */
  log(): string {
    return this.logText;
  }

  /** QoS 1/2 PUBLISHes the broker has sent to clientId, over all its runs (retransmissions included). */
  publishesTo(clientId: string): number {
    return this.exchanges.get(clientId)?.publishes ?? 0;
  }

  /** PUBACKs the broker has received from clientId, over all its runs. */
  pubAcksFrom(clientId: string): number {
    return this.exchanges.get(clientId)?.pubAcks ?? 0;
  }

  /** Milliseconds since the broker last sent a PUBLISH to clientId or received a PUBACK from it. */
  quietFor(clientId: string): number {
    const e = this.exchanges.get(clientId);
    return e === undefined ? Infinity : Date.now() - e.last;
  }

  private onLog(text: string): void {
    this.logText += text;
    const lines = (this.partial + text).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) {
      const m = /(Sending PUBLISH to|Received PUBACK from) (\S+) \((?:d\d, q([12])|Mid)/.exec(line);
      if (m === null) continue;
      const id = m[2]!;
      let e = this.exchanges.get(id);
      if (e === undefined) {
        e = { publishes: 0, pubAcks: 0, last: 0 };
        this.exchanges.set(id, e);
      }
      if (m[1] === "Sending PUBLISH to") e.publishes++;
      else e.pubAcks++;
      e.last = Date.now();
    }
  }

  /** Stops the broker and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
