import { createServer, type AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import { spawnGatewayCommand, startGatewayCommand, type GatewayCommand } from "../support/gateway-command";
import { freePort, startMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { sleep, Watcher } from "./helpers";

describe("mqttsn-gateway command", () => {
  const started: GatewayCommand[] = [];
  afterEach(async () => {
    for (const r of started.splice(0)) await r.stop("SIGKILL");
  });

  it("prints one ready line, serves a client end to end with the embedded broker, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const r = await startGatewayCommand({
      args: ["--udp", "127.0.0.1:0", "--embedded-port", String(port)],
      readyTimeoutMs: 15_000,
    });
    started.push(r);
    expect(r.brokerUrl).toBe(`mqtt://127.0.0.1:${port}`);
    const watcher = await Watcher.connect(r.brokerUrl);
    const c = await SnClient.open(r.udp);
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
    expect(await r.stop()).toBe(0);
    expect(r.stderr()).toBe(""); // quiet by default
  });

  it("prints the ready line without the broker's password, also while the broker cannot be reached", async () => {
    const port = await freePort();
    const r = await startGatewayCommand({
      args: ["--udp", "127.0.0.1:0", "--broker", `mqtt://sensor-gw:s3cret-pw@127.0.0.1:${port}`],
      readyTimeoutMs: 15_000,
    });
    started.push(r);
    expect(r.readyLine).toContain(`broker mqtt://sensor-gw:[redacted]@127.0.0.1:${port}`);
    expect(r.stdout() + r.stderr()).not.toContain("s3cret-pw");
  });

  it("stops with the key, the value and what is allowed on a bad config file", async () => {
    const r = await spawnGatewayCommand({
      config: { limits: { maxClients: -5 } },
      args: ["--udp", "127.0.0.1:0", "--embedded-port", "0"],
    });
    started.push(r);
    expect(await r.exited).not.toBe(0);
    expect(r.stderr()).toContain("limits.maxClients");
    expect(r.stderr()).toContain("-5");
    expect(r.stderr()).toContain("an integer from 1");

    const unknown = await spawnGatewayCommand({ config: { maxClients: 5 } });
    started.push(unknown);
    expect(await unknown.exited).not.toBe(0);
    expect(unknown.stderr()).toContain("maxClients");
    expect(unknown.stderr()).toContain("no such key");
  });

  it("says the embedded broker port is taken and names the flag that changes it", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await spawnGatewayCommand({ args: ["--udp", "127.0.0.1:0", "--embedded-port", String(port)] });
      started.push(r);
      expect(await r.exited).toBe(1);
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
      const r = await startGatewayCommand({
        args: ["--udp", "127.0.0.1:0", "--broker", mosquitto.url],
        readyTimeoutMs: 15_000,
      });
      started.push(r);
      const c = await SnClient.open(r.udp);
      try {
        expect(await c.connect("cli-will", { will: { topic: "wills/cli-will", message: "should not appear" } })).toBe(
          0,
        );
        expect(await r.stop()).toBe(0);
        await c.expect(MsgType.Disconnect);
        await sleep(500);
        expect(watcher.count((m) => m.topic === "wills/cli-will")).toBe(0);
        // The same will does appear when the connection is dropped instead (the check above can fail). In
        // transparent mode, where the broker holds the will: in aggregating mode the gateway holds it and a
        // SIGKILL takes it along (test/e2e/aggregating.test.ts covers its wills).
        const r2 = await startGatewayCommand({
          args: ["--udp", "127.0.0.1:0", "--broker", mosquitto.url, "--mode", "transparent"],
          readyTimeoutMs: 15_000,
        });
        started.push(r2);
        const c2 = await SnClient.open(r2.udp);
        expect(await c2.connect("cli-will", { will: { topic: "wills/cli-will", message: "dropped" } })).toBe(0);
        await r2.stop("SIGKILL");
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
