import { describe, expect, it } from "vitest";
import { MsgType, type Bytes } from "../../protocol";
import { SnClient, payloadText } from "../support/sn-client";
import { systemHas } from "../support/system";
import { brokerPerBlock, brokers, gatewayPerTest, sleep } from "./helpers";

const available = brokers.filter(
  (b) => b.name !== "mosquitto" || systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"),
);

describe.each(available)("gateway over UDP with $name", (brokerUnderTest) => {
  const { start: setup, client, harness } = gatewayPerTest(brokerPerBlock(brokerUnderTest));

  it("connects with the will handshake, registers and publishes QoS 0, 1 and 2 upstream", async () => {
    const { watcher } = await setup();
    const c = await client();
    expect(await c.connect("up-1", { will: { topic: "wills/up-1", message: "gone" } })).toBe(0);
    const reg = await c.register("sensors/up-1/temp");
    expect(reg.returnCode).toBe(0);
    expect(reg.topicId).toBeGreaterThan(0);

    c.publish(reg.topicId, "q0", { qos: 0 });
    const q1 = c.publish(reg.topicId, "q1", { qos: 1 });
    const ack = await c.expect(MsgType.PubAck);
    expect(ack).toMatchObject({ msgId: q1, topicId: reg.topicId, returnCode: 0 });
    const q2 = c.publish(reg.topicId, "q2", { qos: 2 });
    expect((await c.expect(MsgType.PubRec)).msgId).toBe(q2);
    c.send({ type: MsgType.PubRel, msgId: q2 });
    expect((await c.expect(MsgType.PubComp)).msgId).toBe(q2);

    for (const [payload, qos] of [
      ["q0", 0],
      ["q1", 1],
      ["q2", 2],
    ] as const) {
      const m = await watcher.waitFor((x) => x.payload === payload);
      expect(m.topic).toBe("sensors/up-1/temp");
      expect(m.qos).toBe(qos);
    }
    // A clean DISCONNECT is answered and publishes no will.
    c.send({ type: MsgType.Disconnect, duration: undefined });
    await c.expect(MsgType.Disconnect);
    await sleep(300);
    expect(watcher.count((m) => m.topic === "wills/up-1")).toBe(0);
    expect(harness()?.gateway.sessionCount()).toBe(0);
  });

  it("forwards a QoS 2 PUBLISH sent twice (DUP) exactly once", async () => {
    const { watcher } = await setup();
    const c = await client();
    await c.connect("dup-1");
    const reg = await c.register("dup/topic");
    // The duplicate arrives before the broker answered, and once more after PUBREC.
    c.publish(reg.topicId, "once", { qos: 2, msgId: 77 });
    c.publish(reg.topicId, "once", { qos: 2, msgId: 77, dup: true });
    expect((await c.expect(MsgType.PubRec)).msgId).toBe(77);
    c.publish(reg.topicId, "once", { qos: 2, msgId: 77, dup: true });
    expect((await c.expect(MsgType.PubRec)).msgId).toBe(77);
    c.send({ type: MsgType.PubRel, msgId: 77 });
    expect((await c.expect(MsgType.PubComp)).msgId).toBe(77);
    await watcher.waitFor((m) => m.payload === "once");
    await sleep(300);
    expect(watcher.count((m) => m.payload === "once")).toBe(1);
  });

  it("answers PUBACK 0x02 for an unknown topic id", async () => {
    await setup();
    const c = await client();
    await c.connect("unknown-id");
    const msgId = c.publish(999, "x", { qos: 1 });
    expect(await c.expect(MsgType.PubAck)).toMatchObject({ topicId: 999, msgId, returnCode: 2 });
  });

  it("publishes QoS -1 by predefined id and short name without a connection", async () => {
    const { watcher } = await setup({ predefinedTopics: { global: { "pre/seven": 7 } } });
    const c = await client();
    c.publish(7, "minus-one-predefined", { qos: -1, topicIdType: 1 });
    c.publish(("ab".charCodeAt(0) << 8) | "ab".charCodeAt(1), "minus-one-short", { qos: -1, topicIdType: 2 });
    c.publish(5, "minus-one-normal", { qos: -1, topicIdType: 0 });
    expect((await watcher.waitFor((m) => m.payload === "minus-one-predefined")).topic).toBe("pre/seven");
    expect((await watcher.waitFor((m) => m.payload === "minus-one-short")).topic).toBe("ab");
    await sleep(200);
    expect(watcher.count((m) => m.payload === "minus-one-normal")).toBe(0);
    expect(harness()?.gateway.counters.qosMinusOneDropped).toBe(1);
  });

  it("delivers QoS 0, 1 and 2 to a client subscribed by name, predefined id and short name", async () => {
    const { watcher } = await setup({ predefinedTopics: { clients: { "down-1": { "cmd/down-1": 3 } } } });
    const c = await client();
    await c.connect("down-1");
    const byName = await c.subscribe("down/x", 2);
    expect(byName).toMatchObject({ returnCode: 0, qos: 2 });
    expect(byName.topicId).toBeGreaterThan(0);
    const predefined = await c.subscribe({ predefined: 3 }, 1);
    expect(predefined).toMatchObject({ returnCode: 0, topicId: 3 });
    const short = await c.subscribe({ short: "zz" }, 0);
    expect(short.returnCode).toBe(0);
    const unknownPredefined = await c.subscribe({ predefined: 44 }, 0);
    expect(unknownPredefined.returnCode).toBe(2);

    await watcher.client.publishAsync("down/x", "d0", { qos: 0 });
    const p0 = await c.expect(MsgType.Publish);
    expect({ topicId: p0.topicId, qos: p0.qos, text: payloadText(p0) }).toEqual({
      topicId: byName.topicId,
      qos: 0,
      text: "d0",
    });

    await watcher.client.publishAsync("down/x", "d1", { qos: 1 });
    const p1 = await c.expect(MsgType.Publish);
    expect({ qos: p1.qos, text: payloadText(p1) }).toEqual({ qos: 1, text: "d1" });
    c.send({ type: MsgType.PubAck, topicId: p1.topicId, msgId: p1.msgId, returnCode: 0 });

    const sent2 = watcher.client.publishAsync("down/x", "d2", { qos: 2 });
    const p2 = await c.expect(MsgType.Publish);
    expect({ qos: p2.qos, text: payloadText(p2) }).toEqual({ qos: 2, text: "d2" });
    c.send({ type: MsgType.PubRec, msgId: p2.msgId });
    expect((await c.expect(MsgType.PubRel)).msgId).toBe(p2.msgId);
    c.send({ type: MsgType.PubComp, msgId: p2.msgId });
    await sent2;

    await watcher.client.publishAsync("cmd/down-1", "pre", { qos: 1 });
    const pp = await c.expect(MsgType.Publish);
    expect({ topicIdType: pp.topicIdType, topicId: pp.topicId, text: payloadText(pp) }).toEqual({
      topicIdType: 1,
      topicId: 3,
      text: "pre",
    });
    c.send({ type: MsgType.PubAck, topicId: pp.topicId, msgId: pp.msgId, returnCode: 0 });

    await watcher.client.publishAsync("zz", "short", { qos: 0 });
    const ps = await c.expect(MsgType.Publish);
    expect({ topicIdType: ps.topicIdType, topicId: ps.topicId, text: payloadText(ps) }).toEqual({
      topicIdType: 2,
      topicId: 0x7a7a,
      text: "short",
    });

    c.send({ type: MsgType.Unsubscribe, topicIdType: 0, msgId: 900, topicName: "down/x", topicId: 0 });
    expect((await c.expect(MsgType.UnsubAck)).msgId).toBe(900);
    await watcher.client.publishAsync("down/x", "after-unsubscribe", { qos: 0 });
    await c.expectNone(MsgType.Publish, 300);
  });

  it("REGISTERs a topic from a wildcard subscription first and publishes only after REGACK", async () => {
    const { watcher } = await setup();
    const c = await client();
    await c.connect("wild-1");
    const sub = await c.subscribe("wild/+/t", 1);
    expect(sub).toMatchObject({ returnCode: 0, topicId: 0 });
    await watcher.client.publishAsync("wild/a/t", "w1", { qos: 1 });
    const reg = await c.expect(MsgType.Register);
    expect(reg.topicName).toBe("wild/a/t");
    expect(reg.topicId).toBeGreaterThan(0);
    await c.expectNone(MsgType.Publish, 300);
    c.send({ type: MsgType.RegAck, topicId: reg.topicId, msgId: reg.msgId, returnCode: 0 });
    const p = await c.expect(MsgType.Publish);
    expect({ topicId: p.topicId, topicIdType: p.topicIdType, text: payloadText(p) }).toEqual({
      topicId: reg.topicId,
      topicIdType: 0,
      text: "w1",
    });
    c.send({ type: MsgType.PubAck, topicId: p.topicId, msgId: p.msgId, returnCode: 0 });
    // The id is known now: the next message on that topic needs no REGISTER.
    await watcher.client.publishAsync("wild/a/t", "w2", { qos: 0 });
    const p2 = await c.expect(MsgType.Publish);
    expect({ topicId: p2.topicId, text: payloadText(p2) }).toEqual({ topicId: reg.topicId, text: "w2" });
    expect(c.pending().filter((m) => m.type === MsgType.Register)).toHaveLength(0);
  });

  it("publishes the will when the client goes silent past its keep-alive", async () => {
    const { watcher, gateway } = await setup({ timers: { keepAliveGraceMs: 0 } });
    const c = await client();
    await c.connect("silent-1", { duration: 1, will: { topic: "wills/silent-1", message: "lost", qos: 1 } });
    const start = Date.now();
    const will = await watcher.waitFor((m) => m.topic === "wills/silent-1", 6000);
    expect(will.payload).toBe("lost");
    expect(Date.now() - start).toBeGreaterThanOrEqual(1400);
    expect(gateway.counters.clientsLost).toBe(1);
    expect(gateway.sessionCount()).toBe(0);
  });

  it("keeps a client that pings alive and answers PINGREQ", async () => {
    const { watcher } = await setup();
    const c = await client();
    // Keep-alive 2 s: lost after 3 s of silence; a PINGREQ every 0.8 s for 4 s keeps it.
    await c.connect("pinger", { duration: 2, will: { topic: "wills/pinger", message: "lost" } });
    for (let i = 0; i < 5; i++) {
      await sleep(800);
      c.send({ type: MsgType.PingReq, clientId: undefined });
      await c.expect(MsgType.PingResp);
    }
    expect(watcher.count((m) => m.topic === "wills/pinger")).toBe(0);
  });

  it("retransmits an unanswered PUBLISH with DUP after T_RETRY, then takes the client as lost", async () => {
    const { watcher, gateway } = await setup({ timers: { tRetryMs: 200, nRetry: 2 } });
    const c = await client();
    await c.connect("retry-1", { will: { topic: "wills/retry-1", message: "retries exhausted" } });
    const sub = await c.subscribe("retry/t", 1);
    await watcher.client.publishAsync("retry/t", "again", { qos: 1 });
    const first = await c.expect(MsgType.Publish);
    expect(first.dup).toBe(false);
    const second = await c.expect(MsgType.Publish);
    expect({ dup: second.dup, msgId: second.msgId, topicId: second.topicId, text: payloadText(second) }).toEqual({
      dup: true,
      msgId: first.msgId,
      topicId: sub.topicId,
      text: "again",
    });
    const third = await c.expect(MsgType.Publish);
    expect(third.dup).toBe(true);
    await watcher.waitFor((m) => m.topic === "wills/retry-1");
    expect(gateway.counters.retransmissions).toBe(2);
    expect(gateway.sessionCount()).toBe(0);
  });

  it("keeps the upstream connection alive while a QoS 1 delivery awaits the client's PUBACK", async () => {
    // Keep-alive 2 s upstream; the delivery stays unanswered for 4 s while the client pings and subscribes.
    const { watcher, gateway } = await setup({ timers: { tRetryMs: 1500, nRetry: 5 } });
    const c = await client();
    await c.connect("slow-acker", { duration: 2, will: { topic: "wills/slow-acker", message: "lost" } });
    await c.subscribe("slow/t", 1);
    await watcher.client.publishAsync("slow/t", "wait for me", { qos: 1 });
    const p = await c.expect(MsgType.Publish);
    for (let i = 0; i < 5; i++) {
      await sleep(800);
      c.send({ type: MsgType.PingReq, clientId: undefined });
      await c.expect(MsgType.PingResp);
    }
    // Other answers from the broker still flow meanwhile.
    expect((await c.subscribe("slow/other", 0)).returnCode).toBe(0);
    c.send({ type: MsgType.PubAck, topicId: p.topicId, msgId: p.msgId, returnCode: 0 });
    await sleep(300);
    expect(c.pending().filter((m) => m.type === MsgType.Disconnect)).toHaveLength(0);
    expect(watcher.count((m) => m.topic === "wills/slow-acker")).toBe(0);
    expect(gateway.sessionCount()).toBe(1);
  });

  // QoS 1 only: for QoS 2 the broker hands the message over at PUBREC (MQTT §4.3.3), which mqtt.js sends at once.
  it.each([1] as const)(
    "acknowledges a QoS %i message to the broker only once the client has it (persistent session)",
    async (qos) => {
      const { watcher } = await setup();
      const c = await client();
      await c.connect(`durable-${qos}`, { cleanSession: false });
      await c.subscribe("durable/t", qos);
      await watcher.client.publishAsync("durable/t", "unanswered", { qos });
      const first = await c.expect(MsgType.Publish);
      expect(payloadText(first)).toBe("unanswered");
      // The client goes away without PUBACK: the broker still holds the message and sends it again.
      c.send({ type: MsgType.Disconnect, duration: undefined });
      await c.expect(MsgType.Disconnect);
      await sleep(200);
      c.clear();
      await c.connect(`durable-${qos}`, { cleanSession: false });
      // The gateway kept no registrations after DISCONNECT, so it registers the topic again first.
      const reg = await c.expect(MsgType.Register);
      expect(reg.topicName).toBe("durable/t");
      c.send({ type: MsgType.RegAck, topicId: reg.topicId, msgId: reg.msgId, returnCode: 0 });
      const again = await c.expect(MsgType.Publish);
      expect(payloadText(again)).toBe("unanswered");
      if (qos === 1) c.send({ type: MsgType.PubAck, topicId: again.topicId, msgId: again.msgId, returnCode: 0 });
      else {
        c.send({ type: MsgType.PubRec, msgId: again.msgId });
        await c.expect(MsgType.PubRel);
        c.send({ type: MsgType.PubComp, msgId: again.msgId });
      }
      await sleep(300);
      // Answered now: a third connection gets nothing.
      c.send({ type: MsgType.Disconnect, duration: undefined });
      await c.expect(MsgType.Disconnect);
      await sleep(200);
      c.clear();
      await c.connect(`durable-${qos}`, { cleanSession: false });
      await c.expectNone(MsgType.Publish, 500);
    },
  );

  it("retransmits REGISTER until answered", async () => {
    const { watcher } = await setup({ timers: { tRetryMs: 200, nRetry: 3 } });
    const c = await client();
    await c.connect("retry-reg");
    await c.subscribe("rr/#", 0);
    await watcher.client.publishAsync("rr/x", "r", { qos: 0 });
    const a = await c.expect(MsgType.Register);
    const b = await c.expect(MsgType.Register);
    expect(b).toEqual(a);
    c.send({ type: MsgType.RegAck, topicId: b.topicId, msgId: b.msgId, returnCode: 0 });
    expect(payloadText(await c.expect(MsgType.Publish))).toBe("r");
  });

  it("answers the limits: max clients, topic ids per client, message size", async () => {
    const { gateway } = await setup({ limits: { maxClients: 1, maxTopicsPerClient: 2, maxMessageSize: 64 } });
    const a = await client();
    const b = await client();
    expect(await a.connect("limit-a")).toBe(0);
    expect(await b.connect("limit-b")).toBe(1);
    expect((await a.register("t/1")).returnCode).toBe(0);
    expect((await a.register("t/2")).returnCode).toBe(0);
    expect(await a.register("t/3")).toMatchObject({ returnCode: 1, topicId: 0 });
    expect((await a.subscribe("t/4", 0)).returnCode).toBe(1);
    const msgId = a.publish(1, "x".repeat(100), { qos: 1 });
    expect(await a.expect(MsgType.PubAck)).toMatchObject({ msgId, returnCode: 1 });
    expect(gateway.counters.congestionRefusals).toBeGreaterThanOrEqual(4);
    // A client id past limits.maxClientIdLength (23 by default) is refused with CONNACK 0x03.
    const long = await client();
    expect(await long.connect("c".repeat(24))).toBe(3);
  });

  it("hands a known client id connecting from a new address the session; a new id from a known address ends the old one", async () => {
    const { gateway, watcher } = await setup();
    const first = await client();
    const second = await client();
    await first.connect("roamer", { cleanSession: false, will: { topic: "wills/roamer", message: "gone" } });
    const reg = await first.register("roam/t");
    expect(await second.connect("roamer", { cleanSession: false })).toBe(0);
    // The client is alive at its new address: the takeover publishes no will.
    await sleep(300);
    expect(watcher.count((m) => m.topic === "wills/roamer")).toBe(0);
    expect(gateway.counters.takeovers).toBe(1);
    expect(gateway.sessionCount()).toBe(1);
    // CleanSession=0 keeps the registrations: the new address may publish with the old id.
    const msgId = second.publish(reg.topicId, "moved", { qos: 1 });
    expect(await second.expect(MsgType.PubAck)).toMatchObject({ msgId, returnCode: 0 });
    // The old address is no longer a client: it is told to reconnect.
    first.send({ type: MsgType.PingReq, clientId: undefined });
    await first.expect(MsgType.Disconnect);

    expect(await second.connect("someone-else")).toBe(0);
    expect(gateway.sessionCount()).toBe(1);
  });

  it("drops and counts malformed datagrams and keeps serving", async () => {
    const { gateway } = await setup();
    const c = await client();
    await c.connect("malformed-1");
    const bad = [
      [0x00],
      [0x05, 0x0c, 0x00],
      [0x03, 0x03, 0x00],
      [0x07, 0x0c, 0x03, 0x00, 0x01, 0x00, 0x01],
      [0x02],
      [0xff, 0x0c],
    ];
    for (const frame of bad) c.sendRaw(Uint8Array.from(frame));
    c.send({ type: MsgType.PingReq, clientId: undefined });
    await c.expect(MsgType.PingResp);
    expect(gateway.counters.malformedDropped).toBe(bad.length);
  });

  it("survives a flood of random datagrams from connected and unknown clients", async () => {
    const { gateway } = await setup();
    const connectedClient = await client();
    await connectedClient.connect("flooded");
    const stranger = await client();
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const length = 1 + random(40);
      const frame = new Uint8Array(length);
      for (let j = 0; j < length; j++) frame[j] = random(256);
      if (random(2) === 0) frame[0] = length; // a plausible Length octet reaches the body decoders
      (i % 2 === 0 ? stranger : connectedClient).sendRaw(frame);
      if (i % 200 === 0) await sleep(5);
    }
    await sleep(200);
    const probe = await client();
    expect(await probe.connect("after-flood")).toBe(0);
    probe.send({ type: MsgType.PingReq, clientId: undefined });
    await probe.expect(MsgType.PingResp);
    expect(gateway.counters.malformedDropped).toBeGreaterThan(500);
  });

  it("answers a protocol violation with DISCONNECT and a message from an unknown client with DISCONNECT", async () => {
    const { gateway } = await setup();
    const c = await client();
    await c.connect("violator");
    c.send({ type: MsgType.ConnAck, returnCode: 0 });
    await c.expect(MsgType.Disconnect);
    expect(gateway.counters.protocolViolations).toBe(1);
    const stranger = await client();
    stranger.publish(1, "x", { qos: 1 });
    await stranger.expect(MsgType.Disconnect);
  });

  it("answers SEARCHGW with GWINFO and sends ADVERTISE to the configured target", async () => {
    const listener = await client("127.0.0.1:9");
    await setup({
      gatewayId: 42,
      advertiseTarget: `127.0.0.1:${listener.localPort}`,
      timers: { advertiseIntervalS: 1 },
    });
    const adv = await listener.expect(MsgType.Advertise);
    expect(adv).toMatchObject({ gwId: 42, duration: 1 });
    const c = await client();
    c.send({ type: MsgType.SearchGw, radius: 1 });
    expect((await c.expect(MsgType.GwInfo)).gwId).toBe(42);
  });

  it("changes the will the broker holds on WILLTOPICUPD and WILLMSGUPD, keeping subscriptions", async () => {
    const { watcher } = await setup();
    const c = await client();
    await c.connect("willupd", { duration: 1, will: { topic: "wills/old", message: "old" } });
    await c.subscribe("willupd/in", 0);
    c.send({ type: MsgType.WillTopicUpd, qos: 1, retain: false, willTopic: "wills/new" });
    expect((await c.expect(MsgType.WillTopicResp)).returnCode).toBe(0);
    const msg = Buffer.from("new message");
    c.send({ type: MsgType.WillMsgUpd, willMsg: msg as unknown as Bytes, willMsgOffset: 0, willMsgLength: msg.length });
    expect((await c.expect(MsgType.WillMsgResp)).returnCode).toBe(0);
    await watcher.client.publishAsync("willupd/in", "still subscribed", { qos: 0 });
    expect(payloadText(await c.expect(MsgType.Publish))).toBe("still subscribed");
    // Replacing the connection published no will; going silent publishes the new one.
    expect(watcher.count((m) => m.topic.startsWith("wills/"))).toBe(0);
    const will = await watcher.waitFor((m) => m.topic.startsWith("wills/"), 6000);
    expect(will).toMatchObject({ topic: "wills/new", payload: "new message" });
    expect(watcher.count((m) => m.topic === "wills/old")).toBe(0);
  });

  it("serves a client behind a forwarder (encapsulated, §5.5) and answers with the same node id", async () => {
    const { watcher } = await setup();
    const fwd = await client();
    const nodeA = [0x0a, 0x01];
    const nodeB = [0x0b, 0x02];
    const wrap = (nodeId: number[], message: Parameters<SnClient["send"]>[0]): void =>
      fwd.send({ type: MsgType.Encapsulated, radius: 0, wirelessNodeId: nodeId, message });
    wrap(nodeA, { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "node-a" });
    wrap(nodeB, { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "node-b" });
    const answers = [await fwd.expect(MsgType.Encapsulated), await fwd.expect(MsgType.Encapsulated)];
    for (const a of answers) expect(a.message).toMatchObject({ type: MsgType.ConnAck, returnCode: 0 });
    expect(answers.map((a) => Array.from(a.wirelessNodeId)).sort()).toEqual([nodeA, nodeB]);
    wrap(nodeA, { type: MsgType.Register, topicId: 0, msgId: 1, topicName: "fwd/a" });
    const regack = await fwd.expect(MsgType.Encapsulated);
    expect(Array.from(regack.wirelessNodeId)).toEqual(nodeA);
    const id = (regack.message as { topicId: number }).topicId;
    const data = Buffer.from("via forwarder");
    wrap(nodeA, {
      type: MsgType.Publish,
      dup: false,
      qos: 0,
      retain: false,
      topicIdType: 0,
      topicId: id,
      msgId: 0,
      data: data as unknown as Bytes,
      dataOffset: 0,
      dataLength: data.length,
    });
    expect((await watcher.waitFor((m) => m.payload === "via forwarder")).topic).toBe("fwd/a");
  });
});

describe("gateway with an unreachable broker", () => {
  it("answers CONNACK congestion instead of silence", async () => {
    const { freePort } = await import("../support/mosquitto");
    const { startGateway } = await import("../../gateway/index");
    const port = await freePort();
    const gateway = await startGateway({
      udp: ["127.0.0.1:0"],
      broker: `mqtt://127.0.0.1:${port}`,
      timers: { advertiseIntervalS: 0 },
    });
    const c = await SnClient.open(gateway.udpAddresses[0] as string);
    try {
      expect(await c.connect("nobody-home")).toBe(1);
      expect(gateway.sessionCount()).toBe(0);
    } finally {
      await c.close();
      await gateway.close();
    }
  });
});

describe("gateway with a broker that accepts TCP but never answers", () => {
  it("answers CONNACK congestion after the upstream connect timeout, and closes promptly meanwhile", async () => {
    const { createServer } = await import("node:net");
    const { startGateway } = await import("../../gateway/index");
    const sockets: import("node:net").Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    const port = (silent.address() as { port: number }).port;
    const gateway = await startGateway({
      udp: ["127.0.0.1:0"],
      broker: `mqtt://127.0.0.1:${port}`,
      timers: { advertiseIntervalS: 0, upstreamConnectTimeoutMs: 500, tRetryMs: 100 },
    });
    const c = await SnClient.open(gateway.udpAddresses[0] as string);
    try {
      const started = Date.now();
      expect(await c.connect("silent-broker")).toBe(1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      // A second client is mid-connect when the gateway closes: close must not hang on it.
      c.send({ type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "mid-connect" });
      await sleep(100);
      // A hang here fails the test by its timeout.
      await gateway.close();
      expect(gateway.sessionCount()).toBe(0);
    } finally {
      await c.close();
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

describe("gateway on IPv6", () => {
  it("serves a client over [::1]", async () => {
    const { startGateway } = await import("../../gateway/index");
    const gateway = await startGateway({ udp: ["[::1]:0"], embeddedPort: 0, timers: { advertiseIntervalS: 0 } });
    expect(gateway.udpAddresses[0]).toMatch(/^\[::1\]:\d+$/);
    const c = await SnClient.open(gateway.udpAddresses[0] as string);
    try {
      expect(await c.connect("v6-client")).toBe(0);
      c.send({ type: MsgType.PingReq, clientId: undefined });
      await c.expect(MsgType.PingResp);
    } finally {
      await c.close();
      await gateway.close();
    }
  });
});

describe.runIf(systemHas(["mosquitto", "mosquitto_passwd"], "sudo apt-get install -y mosquitto"))(
  "gateway with a broker that requires a password",
  () => {
    it("answers CONNACK 'not supported' when the broker refuses, and connects with the configured credentials", async () => {
      const { execFileSync } = await import("node:child_process");
      const { chmodSync, mkdtempSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const { join } = await import("node:path");
      const { startMosquitto } = await import("../support/mosquitto");
      const { startGateway } = await import("../../gateway/index");
      const dir = mkdtempSync(join(tmpdir(), "mqpw-"));
      // Mosquitto started as root reads its files as the user "mosquitto".
      chmodSync(dir, 0o755);
      const passwords = join(dir, "passwords");
      execFileSync("mosquitto_passwd", ["-c", "-b", passwords, "gw", "s3cret"]);
      chmodSync(passwords, 0o644);
      const mosquitto = await startMosquitto(["allow_anonymous false", `password_file ${passwords}`]);
      const anonymous = await startGateway({
        udp: ["127.0.0.1:0"],
        broker: mosquitto.url,
        timers: { advertiseIntervalS: 0 },
      });
      const withPassword = await startGateway({
        udp: ["127.0.0.1:0"],
        broker: mosquitto.url,
        timers: { advertiseIntervalS: 0 },
        upstream: { username: "gw", password: "s3cret" },
      });
      const a = await SnClient.open(anonymous.udpAddresses[0] as string);
      const b = await SnClient.open(withPassword.udpAddresses[0] as string);
      try {
        expect(await a.connect("refused-1")).toBe(3);
        expect(anonymous.sessionCount()).toBe(0);
        expect(await b.connect("allowed-1")).toBe(0);
      } finally {
        await a.close();
        await b.close();
        await anonymous.close();
        await withPassword.close();
        await mosquitto.stop();
      }
    });
  },
);

describe.runIf(systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"))(
  "gateway when the broker goes away",
  () => {
    it("tells connected clients with DISCONNECT and frees their sessions", async () => {
      const { startMosquitto } = await import("../support/mosquitto");
      const { startGateway } = await import("../../gateway/index");
      const mosquitto = await startMosquitto();
      const gateway = await startGateway({
        udp: ["127.0.0.1:0"],
        broker: mosquitto.url,
        timers: { advertiseIntervalS: 0 },
      });
      const c = await SnClient.open(gateway.udpAddresses[0] as string);
      try {
        expect(await c.connect("orphan-1")).toBe(0);
        await mosquitto.stop();
        await c.expect(MsgType.Disconnect, 5000);
        expect(gateway.sessionCount()).toBe(0);
        // Reconnecting while the broker is down is refused, not met with silence.
        expect(await c.connect("orphan-1")).toBe(1);
      } finally {
        await c.close();
        await gateway.close();
      }
    });
  },
);
