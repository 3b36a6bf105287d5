import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { startMosquitto } from "../support/mosquitto";
import { brokers, sleep, startHarness, type BrokerUnderTest, type Harness } from "./helpers";
import { SleepyDevice, type Delivered } from "./sleepy-device";

/**
 * Mosquitto sends QoS 0 messages ahead of queued QoS 1/2 ones once max_inflight_messages (20 by default)
 * are unacknowledged, and the gateway acknowledges a message for a sleeping client only once it is on
 * disk. Unlimited in-flight messages make Mosquitto send in publish order, which the gateway then keeps.
 */
const inOrderMosquitto: BrokerUnderTest = {
  name: "mosquitto",
  start: async () => {
    const m = await startMosquitto(["max_inflight_messages 0"]);
    return { broker: m.url, stop: () => m.stop() };
  },
};
const available = brokers
  .map((b) => (b.name === "mosquitto" ? inOrderMosquitto : b))
  .filter((b) => b.name !== "mosquitto" || systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"));
const storeRoot = await mkdtemp(join(tmpdir(), "mqttsn-sleep-e2e-"));
let storeSerial = 0;
afterAll(() => rm(storeRoot, { recursive: true, force: true }));

describe.each(available)("sleeping clients over UDP with $name", (brokerUnderTest) => {
  let broker: { broker: string; stop(): Promise<void> };
  let h: Harness | undefined;
  let publisher: MqttClient | undefined;
  const devices: SleepyDevice[] = [];
  const sockets: SnClient[] = [];

  beforeAll(async () => {
    broker = await brokerUnderTest.start();
  });
  afterAll(async () => {
    await broker.stop();
  });
  afterEach(async () => {
    for (const d of devices.splice(0)) await d.close();
    for (const s of sockets.splice(0)) await s.close();
    if (publisher !== undefined) await publisher.endAsync();
    publisher = undefined;
    if (h !== undefined) await h.close();
    h = undefined;
  });

  async function setup(
    sleepConfig: Record<string, unknown> = {},
    overrides: Record<string, unknown> = {},
  ): Promise<Harness> {
    h = await startHarness(broker.broker, {
      sleep: { store: { path: join(storeRoot, `s${storeSerial++}`) }, ...sleepConfig },
      ...overrides,
    });
    publisher = await mqtt.connectAsync(h.gateway.brokerUrl, {
      reconnectPeriod: 0,
      clientId: `pub-${Math.random().toString(16).slice(2)}`,
    });
    return h;
  }

  async function device(clientId: string): Promise<SleepyDevice> {
    const d = await SleepyDevice.open((h as Harness).address, clientId);
    devices.push(d);
    return d;
  }

  async function publishAll(topic: string, count: number, qosOf: (i: number) => 0 | 1 | 2): Promise<void> {
    for (let i = 0; i < count; i++) await (publisher as MqttClient).publishAsync(topic, `m${i}`, { qos: qosOf(i) });
  }

  /** Waits until the gateway holds `held` messages for the client and, when given, more conditions hold. */
  async function settle(clientId: string, held: number, also: () => boolean = () => true): Promise<void> {
    const gateway = (h as Harness).gateway;
    const deadline = Date.now() + 8000;
    while (gateway.heldFor(clientId) < held || !also()) {
      if (Date.now() > deadline)
        throw new Error(`${clientId}: the gateway holds ${gateway.heldFor(clientId)} messages, expected ${held}`);
      await sleep(20);
    }
  }

  it("buffers 50 messages at QoS 0, 1 and 2 while asleep and hands them over in order on PINGREQ, PINGRESP last", async () => {
    await setup();
    const d = await device("sleepy-1");
    await d.connectPersistent();
    await d.subscribe("sleep/sleepy-1/#", 2);
    await d.goToSleep(60);
    await publishAll("sleep/sleepy-1/data", 50, (i) => (i % 3) as 0 | 1 | 2);
    await settle("sleepy-1", 50);
    // Nothing reaches a sleeping client.
    expect(d.delivered).toEqual([]);
    const got = await d.wake();
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(got.map((m) => m.qos)).toEqual(Array.from({ length: 50 }, (_, i) => i % 3));
    expect(d.afterPingResp).toEqual([]);
    // Each message once: a second wake brings nothing.
    await sleep(200);
    expect(await d.wake()).toEqual([]);
    expect(d.duplicates).toBe(0);
    // REGISTER came before the first PUBLISH on the topic.
    expect(d.registeredBeforeUse).toBe(true);
  });

  it("hands the buffered messages over when the client comes back with CONNECT", async () => {
    await setup();
    const d = await device("sleepy-2");
    await d.connectPersistent();
    await d.subscribe("sleep/sleepy-2/#", 1);
    await d.goToSleep(60);
    await publishAll("sleep/sleepy-2/x", 6, (i) => (i % 2) as 0 | 1);
    await settle("sleepy-2", 6);
    const got = await d.reconnect();
    expect(got.map((m) => m.payload)).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
  });

  it("at the message limit drops the oldest QoS 0 first and never loses a QoS 1 message", async () => {
    const { gateway } = await setup({ maxMessages: 5 });
    const d = await device("sleepy-3");
    await d.connectPersistent();
    await d.subscribe("sleep/sleepy-3/#", 1);
    await d.goToSleep(60);
    await publishAll("sleep/sleepy-3/q0", 8, () => 0);
    await settle("sleepy-3", 5, () => gateway.counters.sleepDropped === 3);
    expect((await d.wake()).map((m) => m.payload)).toEqual(["m3", "m4", "m5", "m6", "m7"]);
    expect(gateway.counters.sleepDropped).toBe(3);

    await publishAll("sleep/sleepy-3/q1", 9, () => 1);
    await settle("sleepy-3", 5, () => gateway.counters.deliveriesDeferred >= 1);
    const all: Delivered[] = [];
    for (let wakes = 0; wakes < 5 && all.length < 9; wakes++) {
      all.push(...(await d.wake()));
      // What the broker kept comes after the upstream connection is made again.
      if (all.length < 9) await settle("sleepy-3", 1);
    }
    expect(all.map((m) => m.payload)).toEqual(Array.from({ length: 9 }, (_, i) => `m${i}`));
    expect(gateway.counters.deliveriesDeferred).toBeGreaterThanOrEqual(1);
  });

  it("at the byte limit drops the oldest QoS 0 first", async () => {
    const { gateway } = await setup({ maxBytes: 100 });
    const d = await device("sleepy-4");
    await d.connectPersistent();
    await d.subscribe("sleep/sleepy-4/#", 0);
    await d.goToSleep(60);
    // Each message counts 15 (topic) + 25 (payload) = 40 octets: two fit in 100.
    for (let i = 0; i < 5; i++)
      await (publisher as MqttClient).publishAsync("sleep/sleepy-4/b", `${i}`.repeat(25), { qos: 0 });
    await settle("sleepy-4", 2, () => gateway.counters.sleepDropped === 3);
    expect((await d.wake()).map((m) => m.payload)).toEqual(["3".repeat(25), "4".repeat(25)]);
    expect(gateway.counters.sleepDropped).toBe(3);
  });

  it("publishes the will when the client does not wake within its sleep duration plus grace", async () => {
    const { watcher, gateway } = await setup({ graceMs: 200 });
    const d = await device("sleepy-5");
    await d.connectPersistent({ will: { topic: "wills/sleepy-5", message: "asleep too long" } });
    await d.goToSleep(1);
    await sleep(600);
    expect(watcher.count((m) => m.topic === "wills/sleepy-5")).toBe(0);
    await watcher.waitFor((m) => m.topic === "wills/sleepy-5" && m.payload === "asleep too long", 3000);
    expect(gateway.counters.sleepExpired).toBe(1);
  });

  it("publishes the will on sleep expiry also while messages wait at the broker", async () => {
    const { watcher, gateway } = await setup({ maxMessages: 1, graceMs: 0 });
    const d = await device("sleepy-8");
    await d.connectPersistent({ will: { topic: "wills/sleepy-8", message: "paused and gone" } });
    await d.subscribe("sleep/sleepy-8/#", 1);
    await d.goToSleep(2);
    await publishAll("sleep/sleepy-8/t", 3, () => 1);
    await settle("sleepy-8", 1, () => gateway.counters.deliveriesDeferred >= 1);
    // Messages left unacknowledged at the broker do not end the session: no will yet.
    expect(watcher.count((m) => m.topic === "wills/sleepy-8")).toBe(0);
    await watcher.waitFor((m) => m.topic === "wills/sleepy-8" && m.payload === "paused and gone", 5000);
    expect(gateway.counters.sleepExpired).toBe(1);
  });

  describe.each([
    { store: "the durable store", path: undefined },
    { store: "no store (memory only)", path: "" },
  ])("a CleanSession 0 session that ends while asleep, with $store", ({ path }) => {
    const storeConfig = path === undefined ? {} : { store: { path } };

    /** Subscribed at QoS 1, asleep, three QoS 1 messages held (in the store and acknowledged to the broker; without a store, unacknowledged). */
    async function asleepHolding(
      clientId: string,
      sleepSeconds: number,
    ): Promise<{ gateway: Harness["gateway"]; watcher: Harness["watcher"] }> {
      const { gateway, watcher } = await setup({ graceMs: 200, ...storeConfig });
      const d = await device(clientId);
      await d.connectPersistent({ will: { topic: `wills/${clientId}`, message: "gone" } });
      await d.subscribe(`sleep/${clientId}/#`, 1);
      await d.goToSleep(sleepSeconds);
      await publishAll(`sleep/${clientId}/t`, 3, () => 1);
      await settle(clientId, 3);
      return { gateway, watcher };
    }

    it("keeps its acknowledged QoS 1 messages after it is lost and delivers them on CONNECT with CleanSession 0, before newer ones", async () => {
      const { gateway, watcher } = await asleepHolding("sleepy-k1", 2);
      await watcher.waitFor((m) => m.topic === "wills/sleepy-k1" && m.payload === "gone", 6000);
      expect(gateway.counters.sleepExpired).toBe(1);
      // Published while the client is gone: the broker queues it in the persistent session.
      await (publisher as MqttClient).publishAsync("sleep/sleepy-k1/t", "m3", { qos: 1 });
      if (gateway.store !== undefined)
        expect((await gateway.store.messages("sleepy-k1")).map((m) => m.qos)).toEqual([1, 1, 1]);
      const back = await device("sleepy-k1");
      const got = await back.reconnect();
      expect(got.map((m) => m.payload)).toEqual(["m0", "m1", "m2", "m3"]);
      expect(got.every((m) => m.qos === 1 && m.topic === "sleep/sleepy-k1/t")).toBe(true);
      expect(back.registeredBeforeUse).toBe(true);
      expect(back.duplicates).toBe(0);
      expect(gateway.counters.sleepDiscarded).toBe(0);
      // Delivered and acknowledged: gone from the store.
      if (gateway.store !== undefined) expect(await gateway.store.messages("sleepy-k1")).toEqual([]);
    });

    // Only the durable store outlives the gateway process: the memory-only variant has no restart case.
    if (path === undefined)
      it("keeps them across a restart of the gateway on the same store", async () => {
        const { gateway, watcher } = await asleepHolding("sleepy-k4", 2);
        await watcher.waitFor((m) => m.topic === "wills/sleepy-k4" && m.payload === "gone", 6000);
        const storePath = gateway.config.sleep.store.path;
        await (h as Harness).close();
        h = await startHarness(broker.broker, { sleep: { graceMs: 200, store: { path: storePath } } });
        const back = await device("sleepy-k4");
        // A new address: the harness listens on a new port.
        expect((await back.reconnect()).map((m) => m.payload)).toEqual(["m0", "m1", "m2"]);
        expect(await (h.gateway.store as NonNullable<Harness["gateway"]["store"]>).messages("sleepy-k4")).toEqual([]);
      });

    it("keeps them after DISCONNECT without Duration while asleep", async () => {
      const { gateway } = await asleepHolding("sleepy-k2", 60);
      const d = devices[devices.length - 1] as SleepyDevice;
      d.send({ type: MsgType.Disconnect, duration: undefined });
      await d.expect(MsgType.Disconnect);
      const back = await device("sleepy-k2");
      expect((await back.reconnect()).map((m) => m.payload)).toEqual(["m0", "m1", "m2"]);
      expect(gateway.counters.sleepDiscarded).toBe(0);
    });

    it("discards them on CONNECT with CleanSession 1", async () => {
      const { gateway, watcher } = await asleepHolding("sleepy-k3", 2);
      await watcher.waitFor((m) => m.topic === "wills/sleepy-k3" && m.payload === "gone", 6000);
      const back = await device("sleepy-k3");
      expect(await back.reconnect(600, true)).toEqual([]);
      // Without a store the messages were never acknowledged: the broker, not the gateway, discards them.
      expect(gateway.counters.sleepDiscarded).toBe(path === undefined ? 3 : 0);
      if (gateway.store !== undefined) expect(await gateway.store.messages("sleepy-k3")).toEqual([]);
      // Nor are they delivered to a CleanSession 0 CONNECT after that.
      expect(await back.reconnect()).toEqual([]);
    });
  });

  it("is supervised by its sleep duration, not its keep-alive", async () => {
    const { watcher } = await setup({ graceMs: 0 });
    const d = await device("sleepy-6");
    await d.connectPersistent({ keepAlive: 1, will: { topic: "wills/sleepy-6", message: "gone" } });
    await d.goToSleep(3);
    await sleep(2000);
    expect(watcher.count((m) => m.topic === "wills/sleepy-6")).toBe(0);
    expect(await d.wake()).toEqual([]);
  });

  it("ignores a PINGREQ carrying the client id from another address, unless that client id may move", async () => {
    const { gateway } = await setup({ allowAddressChange: ["roamer"] });
    const d = await device("sleepy-7");
    await d.connectPersistent();
    await d.subscribe("sleep/sleepy-7/#", 1);
    await d.goToSleep(60);
    await publishAll("sleep/sleepy-7/t", 2, () => 1);
    await settle("sleepy-7", 2);
    const spoofer = await SnClient.open((h as Harness).address);
    sockets.push(spoofer);
    spoofer.send({ type: MsgType.PingReq, clientId: "sleepy-7" });
    await sleep(400);
    expect(spoofer.frames).toHaveLength(0);
    expect(gateway.counters.spoofedWakeups).toBe(1);
    expect((await d.wake()).map((m) => m.payload)).toEqual(["m0", "m1"]);

    const roamer = await device("roamer");
    await roamer.connectPersistent();
    await roamer.subscribe("sleep/roamer/#", 1);
    await roamer.goToSleep(60);
    await publishAll("sleep/roamer/t", 2, () => 1);
    await settle("roamer", 2);
    const moved = await roamer.rebind();
    expect((await moved.wake()).map((m) => m.payload)).toEqual(["m0", "m1"]);
  });
});
