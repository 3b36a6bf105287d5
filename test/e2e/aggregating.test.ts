import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MsgType, type Message } from "../../protocol";
import { get, parseMetrics, sample } from "../support/http";
import { PersistentMosquitto } from "../support/mosquitto-persistent";
import { SnClient, payloadText } from "../support/sn-client";
import { systemHas } from "../support/system";
import { brokerPerBlock, brokers, gatewayPerTest, sleep, startHarness, Watcher, type Harness } from "./helpers";

// What aggregating mode does differently from transparent mode, against real brokers. Every other flow
// runs in aggregating mode too: `npm test` runs the end-to-end suites again with MQTTSN_TEST_MODE=aggregating.

const available = brokers.filter(
  (b) => b.name !== "mosquitto" || systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"),
);

/** TCP connections to the broker's port now open on this machine (client ends, ESTABLISHED), from /proc/net/tcp. */
function connectionsTo(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[2]?.endsWith(`:${hexPort}`) === true && fields[3] === "01";
    }).length;
}

/** The next PUBLISH to a client, after answering the REGISTER that comes first for a topic it does not know yet. */
async function nextPublish(c: SnClient, timeoutMs = 3000): Promise<Message & { type: MsgType.Publish }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (c.pending().some((m) => m.type === MsgType.Register)) {
      const reg = await c.expect(MsgType.Register);
      c.send({ type: MsgType.RegAck, topicId: reg.topicId, msgId: reg.msgId, returnCode: 0 });
    }
    if (c.pending().some((m) => m.type === MsgType.Publish)) return c.expect(MsgType.Publish);
    if (Date.now() > deadline) throw new Error(`no PUBLISH within ${timeoutMs} ms`);
    await sleep(20);
  }
}

function brokerPort(url: string): number {
  return Number(new URL(url).port);
}

describe.each(available)("aggregating mode with $name", (brokerUnderTest) => {
  const broker = brokerPerBlock(brokerUnderTest);
  const { start: setup, client } = gatewayPerTest(broker, { mode: "aggregating", aggregating: { connections: 2 } });
  async function publishAndExpect(c: SnClient, topic: string, payload: string): Promise<void> {
    const reg = await c.register(topic);
    const msgId = c.publish(reg.topicId, payload, { qos: 1 });
    expect(await c.expect(MsgType.PubAck)).toMatchObject({ msgId, returnCode: 0 });
  }

  it("carries twelve devices over two broker connections and fans a message out once per device, at its own QoS", async () => {
    // The embedded broker starts with the gateway; Mosquitto is shared by these tests.
    const before = broker() === "embedded" ? 0 : connectionsTo(brokerPort(broker()));
    const { gateway, watcher } = await setup();
    const port = brokerPort(gateway.brokerUrl);
    const devices: SnClient[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await client();
      expect(await c.connect(`fan-${i}`)).toBe(0);
      expect((await c.subscribe("fan/#", (i % 3) as 0 | 1 | 2)).returnCode).toBe(0);
      devices.push(c);
    }
    // Overlapping subscriptions of one device: it still gets each message once (at the higher QoS).
    const overlapping = devices[0] as SnClient;
    expect((await overlapping.subscribe("fan/x", 2)).returnCode).toBe(0);
    // The test's watcher and the two shared connections, not twelve: the first shared connection is also the
    // gateway's own (it watches the broker), so there is no third.
    expect(connectionsTo(port) - before).toBe(3);

    await watcher.client.publishAsync("fan/x", "to all", { qos: 1 });
    // Every device answers at once: the gateway gives up on a REGISTER unanswered for nRetry × tRetryMs.
    const received = await Promise.all(devices.map((c) => nextPublish(c)));
    for (const [i, m] of received.entries()) {
      const c = devices[i] as SnClient;
      expect(payloadText(m)).toBe("to all");
      expect(m.qos).toBe(i === 0 ? 1 : Math.min(i % 3, 1));
      if (m.qos === 1) c.send({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 });
    }
    await sleep(300);
    for (const c of devices) expect(c.pending().filter((m) => m.type === MsgType.Publish)).toHaveLength(0);
  });

  it("gives a retained message to the device that subscribes later, and not again to those subscribed before", async () => {
    const { watcher } = await setup();
    await watcher.client.publishAsync("state/valve", "open", { qos: 1, retain: true });
    const early = await client();
    await early.connect("retained-early");
    await early.subscribe("state/#", 1);
    const first = await nextPublish(early);
    expect(payloadText(first)).toBe("open");
    expect(first.retain).toBe(true);
    early.send({ type: MsgType.PubAck, topicId: first.topicId, msgId: first.msgId, returnCode: 0 });

    const late = await client();
    await late.connect("retained-late");
    await late.subscribe("state/valve", 1);
    const again = await nextPublish(late);
    expect(payloadText(again)).toBe("open");
    expect(again.retain).toBe(true);
    late.send({ type: MsgType.PubAck, topicId: again.topicId, msgId: again.msgId, returnCode: 0 });
    await early.expectNone(MsgType.Publish, 500);

    // A live message reaches both, without RETAIN (MQTT 3.1.1 §3.3.1.3).
    await watcher.client.publishAsync("state/valve", "closed", { qos: 0 });
    for (const c of [early, late]) {
      const m = await nextPublish(c);
      expect(payloadText(m)).toBe("closed");
      expect(m.retain).toBe(false);
    }
    await watcher.client.publishAsync("state/valve", "", { qos: 0, retain: true });
  });

  it("gives a retained message once to each of many devices subscribing at the same time", async () => {
    const { watcher } = await setup();
    await watcher.client.publishAsync("state/many", "on", { qos: 1, retain: true });
    const devices: SnClient[] = [];
    for (let i = 0; i < 8; i++) {
      const c = await client();
      expect(await c.connect(`retained-many-${i}`)).toBe(0);
      devices.push(c);
    }
    // Each SUBSCRIBE makes the broker send the retained message again, while the others' windows are open.
    const msgIds = devices.map((c) => {
      const msgId = c.msgId();
      c.send({
        type: MsgType.Subscribe,
        dup: false,
        qos: 0,
        topicIdType: 0,
        msgId,
        topicName: "state/many",
        topicId: 0,
      });
      return msgId;
    });
    for (const [i, c] of devices.entries()) expect((await c.expect(MsgType.SubAck)).msgId).toBe(msgIds[i]);
    await sleep(1000);
    for (const c of devices) {
      const copies = c.pending().filter((m) => m.type === MsgType.Publish);
      expect(copies.map((m) => payloadText(m as Message & { type: MsgType.Publish }))).toEqual(["on"]);
    }
    await watcher.client.publishAsync("state/many", "", { qos: 0, retain: true });
  });

  it("keeps a persistent device's subscriptions and messages while it is away; CleanSession 1 starts empty", async () => {
    const { watcher } = await setup();
    const c = await client();
    expect(await c.connect("away-1", { cleanSession: false })).toBe(0);
    await c.subscribe("away/1/#", 1);
    c.send({ type: MsgType.Disconnect, duration: undefined });
    await c.expect(MsgType.Disconnect);

    await watcher.client.publishAsync("away/1/cmd", "while away", { qos: 1 });
    await sleep(200);
    c.clear();
    expect(await c.connect("away-1", { cleanSession: false })).toBe(0);
    const m = await nextPublish(c);
    expect(payloadText(m)).toBe("while away");
    c.send({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 });
    await c.expectNone(MsgType.Publish, 300);

    c.send({ type: MsgType.Disconnect, duration: undefined });
    await c.expect(MsgType.Disconnect);
    await watcher.client.publishAsync("away/1/cmd", "discarded", { qos: 1 });
    await sleep(200);
    c.clear();
    expect(await c.connect("away-1", { cleanSession: true })).toBe(0);
    await c.expectNone(MsgType.Publish, 500);
    // Nothing of the old subscription is left either.
    await watcher.client.publishAsync("away/1/cmd", "after clean", { qos: 1 });
    await c.expectNone(MsgType.Publish, 500);
  });

  it("keeps at most aggregating.maxKeptSessions persistent devices away: the one away longest is forgotten", async () => {
    const { watcher } = await setup({ aggregating: { maxKeptSessions: 1 } });
    const away = async (clientId: string): Promise<SnClient> => {
      const c = await client();
      expect(await c.connect(clientId, { cleanSession: false })).toBe(0);
      await c.subscribe(`kept/${clientId}`, 1);
      c.send({ type: MsgType.Disconnect, duration: undefined });
      await c.expect(MsgType.Disconnect);
      c.clear();
      return c;
    };
    const first = await away("kept-a");
    const second = await away("kept-b");
    await watcher.client.publishAsync("kept/kept-a", "for a", { qos: 1 });
    await watcher.client.publishAsync("kept/kept-b", "for b", { qos: 1 });
    await sleep(300);
    expect(await second.connect("kept-b", { cleanSession: false })).toBe(0);
    expect(payloadText(await nextPublish(second))).toBe("for b");
    expect(await first.connect("kept-a", { cleanSession: false })).toBe(0);
    await first.expectNone(MsgType.Publish, 500);
  });

  it("publishes a lost device's will itself, and none for a device that sent DISCONNECT", async () => {
    const { watcher } = await setup({ timers: { keepAliveGraceMs: 0 } });
    const lost = await client();
    expect(
      await lost.connect("will-lost", { duration: 1, will: { topic: "wills/lost", message: "gone", qos: 1 } }),
    ).toBe(0);
    const polite = await client();
    expect(await polite.connect("will-polite", { will: { topic: "wills/polite", message: "gone" } })).toBe(0);
    polite.send({ type: MsgType.Disconnect, duration: undefined });
    await polite.expect(MsgType.Disconnect);
    const will = await watcher.waitFor((m) => m.topic === "wills/lost", 5000);
    expect(will).toMatchObject({ payload: "gone", qos: 1 });
    await sleep(300);
    expect(watcher.count((m) => m.topic === "wills/polite")).toBe(0);
  });

  it("shows its shared connections, kept sessions, parked messages and wills in /metrics", async () => {
    const { gateway, watcher } = await setup({ http: "127.0.0.1:0", aggregating: { connections: 2 } });
    const metrics = async (): Promise<Map<string, number>> =>
      parseMetrics((await get(gateway.httpAddress as string, "/metrics")).body);
    const kept = await client();
    expect(await kept.connect("metrics-kept", { cleanSession: false })).toBe(0);
    await kept.subscribe("metrics/kept", 1);
    kept.send({ type: MsgType.Disconnect, duration: undefined });
    await kept.expect(MsgType.Disconnect);
    await watcher.client.publishAsync("metrics/kept", "parked", { qos: 1 });
    const lost = await client();
    expect(await lost.connect("metrics-lost", { duration: 1, will: { topic: "wills/metrics", message: "x" } })).toBe(0);
    await watcher.waitFor((m) => m.topic === "wills/metrics", 5000);

    const m = await metrics();
    expect(sample(m, 'mqttsn_aggregating_shared_connections{state="open"}')).toBeGreaterThanOrEqual(1);
    expect(
      sample(m, 'mqttsn_aggregating_shared_connections{state="open"}') +
        sample(m, 'mqttsn_aggregating_shared_connections{state="down"}'),
    ).toBe(2);
    expect(sample(m, "mqttsn_aggregating_kept_sessions")).toBe(1);
    expect(sample(m, "mqttsn_aggregating_parked_messages")).toBe(1);
    expect(sample(m, "mqttsn_aggregating_wills_published_total")).toBe(1);
    expect(sample(m, "mqttsn_aggregating_parked_dropped_total")).toBe(0);
  });

  it("refuses a device whose access entry gives it an own broker login, which a shared connection cannot carry", async () => {
    await setup({
      mode: { default: "aggregating", clients: [{ clientId: "own-*", mode: "transparent" }] },
      access: { default: "allow", clients: [{ clientId: "*-login", username: "%c", password: "pw" }] },
    });
    const c = await client();
    expect(await c.connect("shared-login")).toBe(0x03);
    const plain = await client();
    expect(await plain.connect("shared-plain")).toBe(0);
  });

  it("mixes modes: a transparent device and an aggregated one exchange messages through the broker", async () => {
    await setup({ mode: { default: "aggregating", clients: [{ clientId: "own-*", mode: "transparent" }] } });
    const own = await client();
    expect(await own.connect("own-1")).toBe(0);
    await own.subscribe("mix/to-own", 1);
    const shared = await client();
    expect(await shared.connect("shared-1")).toBe(0);
    await shared.subscribe("mix/to-shared", 1);
    await publishAndExpect(shared, "mix/to-own", "from shared");
    await publishAndExpect(own, "mix/to-shared", "from own");
    expect(payloadText(await nextPublish(own))).toBe("from shared");
    expect(payloadText(await nextPublish(shared))).toBe("from own");
  });
});

describe.runIf(systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"))(
  "aggregating mode's shared connections at the broker (Mosquitto's log)",
  () => {
    let mosquitto: PersistentMosquitto;
    let h: Harness | undefined;
    const clients: SnClient[] = [];

    beforeAll(async () => {
      mosquitto = await PersistentMosquitto.start();
    });
    afterAll(async () => {
      await mosquitto.dispose();
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) await c.close();
      if (h !== undefined) await h.close();
      h = undefined;
      if (!mosquitto.running) await mosquitto.start();
    });
    async function client(): Promise<SnClient> {
      const c = await SnClient.open((h as Harness).address);
      clients.push(c);
      return c;
    }
    /** UNSUBSCRIBE packets the broker received from the shared connections of gateway `gatewayId`. */
    function unsubscribesFrom(gatewayId: number): number {
      return mosquitto
        .log()
        .split("\n")
        .filter((line) => line.includes(`Received UNSUBSCRIBE from mqttsn-gateway-${gatewayId}-shared-`)).length;
    }

    it("unsubscribes the shared connection only when the last device leaves a filter", async () => {
      h = await startHarness(mosquitto.url, { mode: "aggregating", gatewayId: 7 });
      const a = await client();
      await a.connect("leave-a");
      await a.subscribe("leave/#", 0);
      const b = await client();
      await b.connect("leave-b");
      await b.subscribe("leave/#", 0);
      const unsubscribe = (c: SnClient): Promise<unknown> => {
        c.send({ type: MsgType.Unsubscribe, topicIdType: 0, msgId: 9, topicName: "leave/#", topicId: 0 });
        return c.expect(MsgType.UnsubAck);
      };
      await unsubscribe(a);
      await sleep(300);
      expect(unsubscribesFrom(7)).toBe(0);
      await unsubscribe(b);
      await sleep(300);
      expect(unsubscribesFrom(7)).toBe(1);
    });

    it("after a broker restart: devices hear DISCONNECT, connect again, keep their persistent subscriptions; a lost device's will follows", async () => {
      h = await startHarness(mosquitto.url, { mode: "aggregating", gatewayId: 8 });
      const c = await client();
      expect(
        await c.connect("restart-1", { cleanSession: false, will: { topic: "wills/restart-1", message: "cut" } }),
      ).toBe(0);
      await c.subscribe("restart/#", 1);
      await mosquitto.stop();
      // As in transparent mode when the device's own connection drops: the device hears it at once.
      await c.expect(MsgType.Disconnect, 5000);
      await mosquitto.start();
      // The shared connection tries again at once for a CONNECT (at most once a second), else after its pause.
      let code = -1;
      for (let attempt = 0; attempt < 20 && code !== 0; attempt++) {
        code = await c.connect("restart-1", { cleanSession: false });
        if (code !== 0) await sleep(500);
      }
      expect(code).toBe(0);
      const watcher = await Watcher.connect(mosquitto.url, "#");
      try {
        await watcher.client.publishAsync("restart/x", "after restart", { qos: 1 });
        const m = await nextPublish(c, 5000);
        expect(payloadText(m)).toBe("after restart");
        // The broker would have published the will when the device's connection dropped: the gateway does,
        // once its connection is back.
        for (let i = 0; i < 50 && !mosquitto.log().includes("'wills/restart-1'"); i++) await sleep(100);
        expect(mosquitto.log()).toContain("'wills/restart-1'");
      } finally {
        await watcher.close();
      }
    });
  },
);
