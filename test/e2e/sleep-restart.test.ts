import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startMosquitto, type RunningMosquitto } from "../support/mosquitto";
import { systemHas } from "../support/system";
import { SleepyDevice } from "./sleepy-device";

const command = fileURLToPath(new URL("../../bin/mqttsn-gateway.js", import.meta.url));
const root = await mkdtemp(join(tmpdir(), "mqttsn-restart-"));
afterAll(() => rm(root, { recursive: true, force: true }));

/** A UDP port free right now on 127.0.0.1 (bound, then released), so the restarted gateway listens where the device sends. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

interface RunningCommand {
  child: ChildProcess;
  brokerUrl: string;
  /** Messages held durably for sleeping clients so far (debug log "sleep-held" with durable true). */
  durableHeld(): number;
  exited: Promise<number | null>;
}

/** Starts the real mqttsn-gateway command and waits for its ready line. */
async function startCommand(args: string[]): Promise<RunningCommand> {
  const child = spawn(process.execPath, [command, ...args, "--log-level", "debug"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let held = 0;
  child.stderr!.on("data", (d: Buffer) => {
    const text = d.toString();
    stderr += text;
    held += (text.match(/"event":"sleep-held"[^\n]*"durable":true/g) ?? []).length;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const brokerUrl = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /broker (mqtt:\/\/[^\s;]+)/.exec(stdout);
      if (m !== null) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`mqttsn-gateway exited (${code}) before it was ready: ${stderr}`)));
  });
  return { child, brokerUrl, durableHeld: () => held, exited };
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const brokers: Array<{ name: string; start(): Promise<{ args: string[]; stop(): Promise<void> }> }> = [
  { name: "embedded aedes", start: async () => ({ args: ["--embedded-port", "0"], stop: async () => {} }) },
];
if (systemHas(["mosquitto"], "sudo apt-get install -y mosquitto")) {
  brokers.push({
    name: "mosquitto",
    start: async () => {
      const m: RunningMosquitto = await startMosquitto();
      return { args: ["--broker", m.url], stop: () => m.stop() };
    },
  });
}

describe.each(brokers)("sleeping client across a SIGKILL of the gateway, $name", (brokerUnderTest) => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("delivers every QoS 1 message that reached the gateway before it was killed", async () => {
    const broker = await brokerUnderTest.start();
    cleanup.push(() => broker.stop());
    const port = await freeUdpPort();
    const configFile = join(root, `config-${port}.json`);
    await writeFile(
      configFile,
      JSON.stringify({ sleep: { store: { path: join(root, `store-${port}`) } }, timers: { advertiseIntervalS: 0 } }),
    );
    const args = ["--udp", `127.0.0.1:${port}`, "--config", configFile, ...broker.args];

    const first = await startCommand(args);
    cleanup.push(async () => {
      first.child.kill("SIGKILL");
      await first.exited;
    });
    const device = await SleepyDevice.open(`127.0.0.1:${port}`, "restart-1");
    cleanup.push(() => device.close());
    await device.connectPersistent();
    await device.subscribe("restart/restart-1/#", 1);
    await device.goToSleep(120);

    const publisher = await mqtt.connectAsync(first.brokerUrl, { reconnectPeriod: 0, clientId: "restart-publisher" });
    for (let i = 0; i < 10; i++) await publisher.publishAsync("restart/restart-1/data", `m${i}`, { qos: 1 });
    await waitUntil("10 messages held durably", () => first.durableHeld() >= 10);
    first.child.kill("SIGKILL");
    expect(await first.exited).toBe(null);
    await publisher.endAsync(true);

    const second = await startCommand(args);
    cleanup.push(async () => {
      second.child.kill("SIGTERM");
      await second.exited;
    });
    const got = await device.wake();
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(got.every((m) => m.topic === "restart/restart-1/data" && m.qos === 1)).toBe(true);
    // Delivered and acknowledged: the next wake brings nothing.
    expect(await device.wake()).toEqual([]);
  });
});
