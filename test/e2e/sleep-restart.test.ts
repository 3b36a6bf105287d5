import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freeUdpPort, startGatewayCommand, type GatewayCommand } from "../support/gateway-command";
import { startMosquitto, type RunningMosquitto } from "../support/mosquitto";
import { systemHas } from "../support/system";
import { SleepyDevice } from "./sleepy-device";

const root = await mkdtemp(join(tmpdir(), "mqttsn-restart-"));
afterAll(() => rm(root, { recursive: true, force: true }));

/** Messages held durably for sleeping clients so far (debug log "sleep-held" with durable true). */
function durableHeld(gateway: GatewayCommand): number {
  return gateway.records().filter((r) => r.event === "sleep-held" && r.durable === true).length;
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
    const config = { sleep: { store: { path: join(root, `store-${port}`) } }, timers: { advertiseIntervalS: 0 } };
    const args = ["--udp", `127.0.0.1:${port}`, ...broker.args, "--log-level", "debug"];

    const first = await startGatewayCommand({ args, config });
    cleanup.push(() => first.stop("SIGKILL"));
    const device = await SleepyDevice.open(`127.0.0.1:${port}`, "restart-1");
    cleanup.push(() => device.close());
    await device.connectPersistent();
    await device.subscribe("restart/restart-1/#", 1);
    await device.goToSleep(120);

    const publisher = await mqtt.connectAsync(first.brokerUrl, { reconnectPeriod: 0, clientId: "restart-publisher" });
    for (let i = 0; i < 10; i++) await publisher.publishAsync("restart/restart-1/data", `m${i}`, { qos: 1 });
    await first.waitFor("10 messages held durably", () => durableHeld(first) >= 10, 8000);
    expect(await first.stop("SIGKILL")).toBe(null);
    await publisher.endAsync(true);

    const second = await startGatewayCommand({ args, config });
    cleanup.push(() => second.stop());
    const got = await device.wake();
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(got.every((m) => m.topic === "restart/restart-1/data" && m.qos === 1)).toBe(true);
    // Delivered and acknowledged: the next wake brings nothing.
    expect(await device.wake()).toEqual([]);
  });
});
