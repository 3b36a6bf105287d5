import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import { freePort, startMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { sleep, Watcher } from "./helpers";

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, ["bin/mqttsn-gateway.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function readyLine(r: Running, timeoutMs = 15_000): Promise<{ udp: string; broker: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /ready: MQTT-SN on udp (\S+?);? .*broker (mqtts?:\/\/\S+)/.exec(r.stdout());
    if (m !== null) return { udp: (m[1] as string).replace(/,$/, ""), broker: m[2] as string };
    if (Date.now() > deadline || r.child.exitCode !== null)
      throw new Error(`no ready line; stdout: ${r.stdout()} stderr: ${r.stderr()}`);
    await sleep(50);
  }
}

describe("mqttsn-gateway command", () => {
  const started: Running[] = [];
  afterEach(() => {
    for (const r of started.splice(0)) if (r.child.exitCode === null) r.child.kill("SIGKILL");
  });

  it("prints one ready line, serves a client end to end with the embedded broker, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const r = run(["--udp", "127.0.0.1:0", "--embedded-port", String(port)]);
    started.push(r);
    const ready = await readyLine(r);
    expect(ready.broker).toBe(`mqtt://127.0.0.1:${port}`);
    const watcher = await Watcher.connect(ready.broker);
    const c = await SnClient.open(ready.udp);
    try {
      expect(await c.connect("cli-1")).toBe(0);
      const reg = await c.register("cli/t");
      c.publish(reg.topicId, "through the command", { qos: 1 });
      await c.expect(MsgType.PubAck);
      expect((await watcher.waitFor((m) => m.payload === "through the command")).topic).toBe("cli/t");
    } finally {
      await watcher.close();
      await c.close();
    }
    expect(r.stdout().trim().split("\n")).toHaveLength(1);
    r.child.kill("SIGTERM");
    expect(await r.exit).toBe(0);
    expect(r.stderr()).toBe(""); // quiet by default
  });

  it("stops with the key, the value and what is allowed on a bad config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gwcfg-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ limits: { maxClients: -5 } }));
    const r = run(["--config", file, "--udp", "127.0.0.1:0", "--embedded-port", "0"]);
    started.push(r);
    expect(await r.exit).not.toBe(0);
    expect(r.stderr()).toContain("limits.maxClients");
    expect(r.stderr()).toContain("-5");
    expect(r.stderr()).toContain("an integer from 1");

    writeFileSync(file, JSON.stringify({ maxClients: 5 }));
    const unknown = run(["--config", file]);
    started.push(unknown);
    expect(await unknown.exit).not.toBe(0);
    expect(unknown.stderr()).toContain("maxClients");
    expect(unknown.stderr()).toContain("no such key");
  });

  it("says the embedded broker port is taken and names the flag that changes it", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = run(["--udp", "127.0.0.1:0", "--embedded-port", String(port)]);
      started.push(r);
      expect(await r.exit).toBe(1);
      expect(r.stderr()).toContain("--embedded-port");
      expect(r.stderr()).toContain(String(port));
    } finally {
      server.close();
    }
  });

  it.runIf(systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"))(
    "closes upstream sessions cleanly on SIGTERM: no will is published",
    async () => {
      const mosquitto = await startMosquitto();
      const watcher = await Watcher.connect(mosquitto.url);
      const r = run(["--udp", "127.0.0.1:0", "--broker", mosquitto.url]);
      started.push(r);
      const c = await SnClient.open((await readyLine(r)).udp);
      try {
        expect(await c.connect("cli-will", { will: { topic: "wills/cli-will", message: "should not appear" } })).toBe(
          0,
        );
        r.child.kill("SIGTERM");
        expect(await r.exit).toBe(0);
        await c.expect(MsgType.Disconnect);
        await sleep(500);
        expect(watcher.count((m) => m.topic === "wills/cli-will")).toBe(0);
        // The same will does appear when the connection is dropped instead (the check above can fail).
        const r2 = run(["--udp", "127.0.0.1:0", "--broker", mosquitto.url]);
        started.push(r2);
        const c2 = await SnClient.open((await readyLine(r2)).udp);
        expect(await c2.connect("cli-will", { will: { topic: "wills/cli-will", message: "dropped" } })).toBe(0);
        r2.child.kill("SIGKILL");
        await r2.exit;
        await c2.close();
        expect((await watcher.waitFor((m) => m.topic === "wills/cli-will")).payload).toBe("dropped");
      } finally {
        await c.close();
        await watcher.close();
        await mosquitto.stop();
      }
    },
  );
});
