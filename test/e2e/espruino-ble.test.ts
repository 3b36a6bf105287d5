/**
 * hardware/espruino/ble-publish.js, the Espruino Bluetooth LE example, run in a Node vm with stand-ins for
 * Espruino's Bluetooth, NRF, E and LoopbackA objects, as the peripheral of the noble stand-in, against a real
 * gateway (embedded broker) with a BleLink. It checks the example's MQTT-SN, SLIP and CRC against the
 * gateway's; it cannot check Espruino's own Bluetooth stack, timing or memory (see hardware/espruino.md for
 * the check on a real board).
 */
import { readFileSync } from "node:fs";
import { createContext, runInContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../gateway/index";
import { startGateway } from "../support/test-gateway";
import { BleLink } from "../../transports/ble/ble-link";
import { espruinoViolations } from "../support/espruino-gate";
import { FakeNoble, FakePeripheral } from "../transports/ble/fake-noble";
import { Watcher } from "./helpers";

const source = readFileSync("hardware/espruino/ble-publish.js", "utf8");

/** Runs the example as an Espruino board would, wired to a FakePeripheral. */
function boot(peripheral: FakePeripheral, config: Record<string, unknown>) {
  const handlers: Record<string, Array<(arg?: unknown) => void>> = {};
  const on = (event: string, fn: (arg?: unknown) => void) => (handlers[event] ??= []).push(fn);
  const emit = (event: string, arg?: unknown) => (handlers[event] ?? []).forEach((fn) => fn(arg));
  const timers = new Set<NodeJS.Timeout>();
  const context = createContext({
    MQTTSN_CONFIG: config,
    Bluetooth: {
      on: (event: string, fn: (arg?: unknown) => void) => on(`bt:${event}`, fn),
      write: (data: number[]) => {
        if (peripheral.subscribed) peripheral.notify(Uint8Array.from(data));
      },
    },
    NRF: {
      on: (event: string, fn: (arg?: unknown) => void) => on(`nrf:${event}`, fn),
      setAdvertising: () => undefined,
    },
    E: { getTemperature: () => 21.5 },
    LoopbackA: { setConsole: () => undefined },
    setInterval: (fn: () => void, ms: number) => {
      const t = setInterval(fn, ms);
      timers.add(t);
      return t;
    },
    clearInterval: (t: NodeJS.Timeout) => clearInterval(t),
    setTimeout,
    clearTimeout,
    console,
    String,
    Math,
  });
  peripheral.onWrite = (data) => emit("bt:data", Buffer.from(data).toString("latin1"));
  peripheral.on("connect", () => emit("nrf:connect"));
  peripheral.on("disconnect", () => emit("nrf:disconnect"));
  runInContext(source, context);
  return {
    api: context.mqttsnBle as { state(): string; sent(): number },
    stop: () => timers.forEach((t) => clearInterval(t)),
  };
}

describe("hardware/espruino/ble-publish.js", () => {
  let gateway: RunningGateway | undefined;
  let watcher: Watcher | undefined;
  let board: { stop(): void } | undefined;
  afterEach(async () => {
    board?.stop();
    await watcher?.close();
    await gateway?.close();
    board = watcher = gateway = undefined;
  });

  it("passes the Espruino syntax gate", () => {
    expect(espruinoViolations(source, ["LoopbackA", "MQTTSN_CONFIG"])).toEqual([]);
  });

  it("publishes the temperature through a BleLink into the broker, QoS 1", async () => {
    const noble = new FakeNoble();
    noble.setState("poweredOn");
    const peripheral = new FakePeripheral({
      id: "f00d00000001",
      address: "f0:0d:00:00:00:01",
      localName: "Puck.js mqttsn",
    });
    const running = boot(peripheral, {
      clientId: "puck-e2e",
      topic: "sensors/puck-e2e",
      qos: 1,
      interval: 0.2,
      count: 3,
      retryMs: 300,
    });
    board = running;
    gateway = await startGateway(
      { udp: ["127.0.0.1:0"], broker: "embedded", embeddedPort: 0, timers: { advertiseIntervalS: 0 } },
      { links: [new BleLink({ noble, peripherals: [{ name: "Puck.js mqttsn" }] })] },
    );
    watcher = await Watcher.connect(gateway.brokerUrl);
    noble.advertise(peripheral);
    const w = watcher;
    await w.waitFor((m) => m.topic === "sensors/puck-e2e", 8000);
    const deadline = Date.now() + 8000;
    while (w.count((m) => m.topic === "sensors/puck-e2e") < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const got = w.messages.filter((m) => m.topic === "sensors/puck-e2e");
    expect(got.map((m) => m.payload)).toEqual(["21.5", "21.5", "21.5"]);
    expect(got.every((m) => m.qos === 1)).toBe(true);
    expect(running.api.state()).toBe("active");
    expect(running.api.sent()).toBe(3);
  });
});
