import { describe, expect, it } from "vitest";
import { MsgType, type Bytes, type Message } from "../../protocol";
import type { Effect } from "../../gateway/session/types";
import {
  accept,
  clientPublish,
  connected,
  drainToClient,
  fromBroker,
  harness,
  kinds,
  sent,
} from "./support/session-harness";

describe("session state machine (fake clock)", () => {
  it("runs the will handshake, connects upstream with the will, and sends CONNACK only after the broker answered", () => {
    const f = harness();
    expect(sent(f.connect(0, { will: true, duration: 30 }))).toEqual([{ type: MsgType.WillTopicReq }]);
    expect(f.s.state).toBe("awaitingWillTopic");
    expect(sent(f.frame({ type: MsgType.WillTopic, qos: 1, retain: true, willTopic: "w/t" }, 10))).toEqual([
      { type: MsgType.WillMsgReq },
    ]);
    const msg = Buffer.from("bye");
    const effects = f.frame(
      { type: MsgType.WillMsg, willMsg: msg as unknown as Bytes, willMsgOffset: 0, willMsgLength: 3 },
      20,
    );
    expect(effects).toHaveLength(1);
    const up = effects[0] as Extract<Effect, { kind: "upConnect" }>;
    expect(up.kind).toBe("upConnect");
    expect({
      topic: up.will?.topic,
      qos: up.will?.qos,
      retain: up.will?.retain,
      payload: Buffer.from(up.will?.payload ?? []).toString(),
    }).toEqual({ topic: "w/t", qos: 1, retain: true, payload: "bye" });
    expect(f.s.state).toBe("connectingUpstream");
    expect(sent(f.run({ kind: "upConnack", ok: true, refused: false }, 30))).toEqual([
      { type: MsgType.ConnAck, returnCode: 0 },
    ]);
    expect(f.s.state).toBe("active");
    expect(f.transitions()).toEqual([
      "new→awaitingWillTopic",
      "awaitingWillTopic→awaitingWillMsg",
      "awaitingWillMsg→connectingUpstream",
      "connectingUpstream→active",
    ]);
  });

  it("answers CONNACK 'not supported' on a broker refusal and 'congestion' when the broker does not answer in time", () => {
    const refused = harness();
    refused.connect(0, { duration: 30 });
    const effects = refused.run({ kind: "upConnack", ok: false, refused: true }, 5);
    expect(kinds(effects)).toEqual(["send:ConnAck", "upClose", "end"]);
    expect(sent(effects)).toEqual([{ type: MsgType.ConnAck, returnCode: 3 }]);
    expect(effects).toContainEqual({ kind: "end", keep: false });
    expect(refused.s.state).toBe("disconnected");

    const slow = harness();
    slow.connect(0, { duration: 30 });
    expect(slow.s.deadline).toBe(5000);
    expect(slow.run({ kind: "tick" }, 4999)).toEqual([]);
    expect(sent(slow.run({ kind: "tick" }, 5000))).toEqual([{ type: MsgType.ConnAck, returnCode: 1 }]);
    expect(slow.s.state).toBe("disconnected");
  });

  it("takes a client silent past keep-alive × 1.5 as lost and drops upstream without DISCONNECT (will published)", () => {
    const f = connected({ duration: 10 });
    f.frame({ type: MsgType.PingReq, clientId: undefined }, 4000);
    expect(f.s.deadline).toBe(19_000);
    expect(f.run({ kind: "tick" }, 18_999)).toEqual([]);
    const effects = f.run({ kind: "tick" }, 19_000);
    expect(effects).toContainEqual({ kind: "upClose", graceful: false });
    expect(effects).toContainEqual({ kind: "end", keep: false });
    expect(f.s.state).toBe("lost");
    expect(f.ctx.counters.clientsLost).toBe(1);
  });

  it("retransmits PUBLISH QoS 1 with DUP every T_RETRY, N_RETRY times, then the client is lost", () => {
    const f = connected();
    const first = sent(f.run({ kind: "upMessage", delivery: fromBroker("ab", "p", 1) }, 100));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ type: MsgType.Publish, dup: false, qos: 1, topicIdType: 2 });
    expect(f.s.deadline).toBe(1100);
    const r1 = sent(f.run({ kind: "tick" }, 1100));
    expect(r1[0]).toMatchObject({ type: MsgType.Publish, dup: true, msgId: (first[0] as { msgId: number }).msgId });
    expect(sent(f.run({ kind: "tick" }, 2100))[0]).toMatchObject({ dup: true });
    const end = f.run({ kind: "tick" }, 3100);
    expect(end).toContainEqual({ kind: "upClose", graceful: false });
    expect(f.s.state).toBe("lost");
    expect(f.ctx.counters.retransmissions).toBe(2);
  });

  it("retransmits PUBREL and completes QoS 2 toward the client, releasing the broker's ack at PUBREC", () => {
    const acks: string[] = [];
    const f = connected();
    const [p] = sent(f.run({ kind: "upMessage", delivery: fromBroker("ab", "q2", 2, acks) }, 0)) as unknown as [
      { msgId: number },
    ];
    expect(acks).toEqual([]);
    const rel = f.frame({ type: MsgType.PubRec, msgId: p.msgId }, 10);
    expect(kinds(rel)).toEqual(["release", "send:PubRel"]);
    expect(acks).toEqual(["q2"]);
    expect(sent(f.run({ kind: "tick" }, 1010))).toEqual([{ type: MsgType.PubRel, msgId: p.msgId }]);
    expect(f.frame({ type: MsgType.PubComp, msgId: p.msgId }, 1020)).toEqual([]);
    expect(f.s.inFlight).toBeUndefined();
    expect(f.s.deadline).toBe(Infinity);
    expect(acks).toEqual(["q2"]);
  });

  it("REGISTERs an unknown topic first and publishes only after REGACK; a refused REGISTER drops the message", () => {
    const acks: string[] = [];
    const f = connected();
    const reg = sent(f.run({ kind: "upMessage", delivery: fromBroker("a/long/topic", "one", 1, acks) }, 0));
    expect(reg).toHaveLength(1);
    const r = reg[0] as Extract<Message, { type: MsgType.Register }>;
    expect(r).toMatchObject({ type: MsgType.Register, topicName: "a/long/topic" });
    expect(f.s.topics.idOf("a/long/topic")).toBeUndefined();
    const pub = sent(f.frame({ type: MsgType.RegAck, topicId: r.topicId, msgId: r.msgId, returnCode: 0 }, 5));
    expect(pub[0]).toMatchObject({ type: MsgType.Publish, topicId: r.topicId, topicIdType: 0 });
    expect(f.s.topics.idOf("a/long/topic")).toBe(r.topicId);
    expect(acks).toEqual([]);

    const g = connected();
    const [r2] = sent(g.run({ kind: "upMessage", delivery: fromBroker("x/y", "two", 1, acks) }, 0)) as [
      Extract<Message, { type: MsgType.Register }>,
    ];
    const refused = g.frame({ type: MsgType.RegAck, topicId: r2.topicId, msgId: r2.msgId, returnCode: 3 }, 5);
    expect(kinds(refused)).toEqual(["release"]);
    expect(acks).toEqual(["two"]);
    expect(g.s.topics.idOf("x/y")).toBeUndefined();
    expect(g.ctx.counters.deliveriesDropped).toBe(1);
  });

  it("registers again once when the client answers PUBACK 0x02, and gives the message up on a second 0x02", () => {
    const acks: string[] = [];
    const f = connected();
    const [r] = sent(f.run({ kind: "upMessage", delivery: fromBroker("t/one", "m", 1, acks) }, 0)) as [
      Extract<Message, { type: MsgType.Register }>,
    ];
    const [p] = sent(
      f.frame({ type: MsgType.RegAck, topicId: r.topicId, msgId: r.msgId, returnCode: 0 }, 1),
    ) as unknown as [{ msgId: number }];
    const again = sent(f.frame({ type: MsgType.PubAck, topicId: r.topicId, msgId: p.msgId, returnCode: 2 }, 2));
    expect(again[0]).toMatchObject({ type: MsgType.Register, topicName: "t/one" });
    expect(acks).toEqual([]);
    const r3 = again[0] as Extract<Message, { type: MsgType.Register }>;
    const [p3] = sent(
      f.frame({ type: MsgType.RegAck, topicId: r3.topicId, msgId: r3.msgId, returnCode: 0 }, 3),
    ) as unknown as [{ msgId: number }];
    const given = f.frame({ type: MsgType.PubAck, topicId: r3.topicId, msgId: p3.msgId, returnCode: 2 }, 4);
    expect(kinds(given)).toEqual(["release"]);
    expect(acks).toEqual(["m"]);
    expect(f.ctx.counters.deliveriesDropped).toBe(1);
    expect(f.s.inFlight).toBeUndefined();
  });

  it("forwards a QoS 2 PUBLISH once however often it is duplicated, and answers every copy", () => {
    const f = connected();
    const reg = sent(f.frame({ type: MsgType.Register, topicId: 0, msgId: 1, topicName: "q2/t" }, 0))[0] as {
      topicId: number;
    };
    const first = f.frame(clientPublish(reg.topicId, 2, 9), 1);
    expect(kinds(first)).toEqual(["upPublish"]);
    expect(f.frame(clientPublish(reg.topicId, 2, 9, true), 2)).toEqual([]);
    expect(sent(f.run({ kind: "upPublished", msgId: 9, ok: true }, 3))).toEqual([{ type: MsgType.PubRec, msgId: 9 }]);
    expect(sent(f.frame(clientPublish(reg.topicId, 2, 9, true), 4))).toEqual([{ type: MsgType.PubRec, msgId: 9 }]);
    expect(sent(f.frame({ type: MsgType.PubRel, msgId: 9 }, 5))).toEqual([{ type: MsgType.PubComp, msgId: 9 }]);
    // After PUBCOMP the id is free again: a new message with it is forwarded.
    expect(kinds(f.frame(clientPublish(reg.topicId, 2, 9), 6))).toEqual(["upPublish"]);
  });

  it("answers PUBACK congestion past maxInflight client publishes awaiting the broker", () => {
    const f = connected({}, { ctx: { maxInflight: 2 } });
    const reg = sent(f.frame({ type: MsgType.Register, topicId: 0, msgId: 1, topicName: "t" }, 0))[0] as {
      topicId: number;
    };
    expect(kinds(f.frame(clientPublish(reg.topicId, 1, 1), 1))).toEqual(["upPublish"]);
    expect(kinds(f.frame(clientPublish(reg.topicId, 1, 2), 1))).toEqual(["upPublish"]);
    expect(sent(f.frame(clientPublish(reg.topicId, 1, 3), 1))).toEqual([
      { type: MsgType.PubAck, topicId: reg.topicId, msgId: 3, returnCode: 1 },
    ]);
    f.run({ kind: "upPublished", msgId: 1, ok: true }, 2);
    expect(kinds(f.frame(clientPublish(reg.topicId, 1, 4), 3))).toEqual(["upPublish"]);
  });

  it("answers REGACK congestion when the topic table is full", () => {
    const f = connected({}, { ctx: { maxTopicsPerClient: 1 } });
    expect(sent(f.frame({ type: MsgType.Register, topicId: 0, msgId: 1, topicName: "a" }, 0))[0]).toMatchObject({
      returnCode: 0,
      topicId: 1,
    });
    expect(sent(f.frame({ type: MsgType.Register, topicId: 0, msgId: 2, topicName: "b" }, 0))[0]).toMatchObject({
      returnCode: 1,
      topicId: 0,
    });
    expect(sent(f.frame({ type: MsgType.Register, topicId: 0, msgId: 3, topicName: "a" }, 0))[0]).toMatchObject({
      returnCode: 0,
      topicId: 1,
    });
  });

  it("bounds the queue toward the client by its limits: the oldest QoS 0 message is dropped first, counted", () => {
    const f = connected({}, { limits: { maxMessages: 2, maxBytes: 10_000 } });
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "in-flight", 1) }, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "a", 0) }, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "b", 0) }, 0);
    expect(f.s.queue.length).toBe(2);
    expect(f.run({ kind: "upMessage", delivery: fromBroker("ab", "c", 0) }, 0)).toEqual([]);
    expect(f.s.queue.toArray().map((d) => Buffer.from(d.payload).toString())).toEqual(["b", "c"]);
    expect(f.ctx.counters.sleepDropped).toBe(1);
  });

  it("leaves a QoS 1 message unacknowledged at the broker when a CleanSession 0 queue is full of QoS 1/2, and fetches it again once the queue has drained", () => {
    const acks: string[] = [];
    const f = connected({ cleanSession: false }, { limits: { maxMessages: 2, maxBytes: 10_000 } });
    const [ab] = sent(f.run({ kind: "upMessage", delivery: fromBroker("ab", "ab", 1, acks) }, 0));
    f.run({ kind: "upMessage", delivery: fromBroker("cd", "cd", 1, acks) }, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ef", "ef", 1, acks) }, 0);
    const deferred = f.run({ kind: "upMessage", delivery: fromBroker("gh", "gh", 1, acks) }, 0);
    expect(deferred).toEqual([]);
    expect(f.s.queue.toArray().map((d) => d.topicName)).toEqual(["cd", "ef"]);
    expect(f.ctx.counters.deliveriesDeferred).toBe(1);
    expect(f.ctx.counters.sleepRefused).toBe(0);
    expect(f.s.refetch).toBe(true);
    expect(acks).toEqual([]);

    // Drained one answer at a time; the upstream connection is remade only once nothing is left.
    let next = ab as Message;
    for (const topic of ["cd", "ef"]) {
      const out = f.frame(accept(next), 10);
      expect(kinds(out)).toEqual(["release", "send:Publish"]);
      next = sent(out)[0] as Message;
      expect(next).toMatchObject({ topicIdType: 2, topicId: topic.charCodeAt(0) * 256 + topic.charCodeAt(1) });
    }
    const last = f.frame(accept(next), 20);
    expect(kinds(last)).toEqual(["release", "upReplace"]);
    expect(last[1]).toEqual({ kind: "upReplace", will: undefined });
    expect(acks).toEqual(["ab", "cd", "ef"]);
    expect(f.s.replacing).toBe("refetch");
    expect(f.ctx.counters.refetches).toBe(1);
    expect(f.s.refetch).toBe(false);

    // The new connection's CONNACK is not answered to the client; the broker sends the message again.
    expect(f.run({ kind: "upConnack", ok: true, refused: false }, 30)).toEqual([]);
    expect(f.s.state).toBe("active");
    expect(f.s.replacing).toBeUndefined();
    const again = sent(f.run({ kind: "upMessage", delivery: fromBroker("gh", "gh", 1, acks) }, 40));
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ type: MsgType.Publish, qos: 1 });
    f.frame(accept(again[0] as Message), 50);
    expect(acks).toEqual(["ab", "cd", "ef", "gh"]);
  });

  it("acknowledges and drops (counted) a QoS 1 message a full clean-session queue cannot take: the broker would not send it again", () => {
    const acks: string[] = [];
    const f = connected({ cleanSession: true }, { limits: { maxMessages: 2, maxBytes: 10_000 } });
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "ab", 1, acks) }, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("cd", "cd", 1, acks) }, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ef", "ef", 1, acks) }, 0);
    const refused = f.run({ kind: "upMessage", delivery: fromBroker("gh", "gh", 1, acks) }, 0);
    expect(kinds(refused)).toEqual(["release"]);
    expect(acks).toEqual(["gh"]);
    expect(f.s.queue.toArray().map((d) => d.topicName)).toEqual(["cd", "ef"]);
    expect(f.ctx.counters.sleepRefused).toBe(1);
    expect(f.ctx.counters.deliveriesDeferred).toBe(0);
    expect(f.s.refetch).toBe(false);
  });

  it("gives up, counted, a QoS 1 message larger than the client's queue can ever hold, instead of fetching it again and again", () => {
    // The queue is empty: the message is refused for its size alone (sleep.maxBytes), not because the queue
    // is full. Left unacknowledged it would come back on every new upstream connection and never fit.
    const acks: string[] = [];
    const f = connected({ cleanSession: false }, { limits: { maxMessages: 5, maxBytes: 10 } });
    const big = "x".repeat(20);
    const effects: Effect[] = [];
    for (let i = 0; i < 3; i++) {
      effects.push(...f.run({ kind: "upMessage", delivery: fromBroker("ab", big, 1, acks) }, i));
      if (f.s.replacing !== undefined) f.run({ kind: "upConnack", ok: true, refused: false }, i);
    }
    expect(kinds(effects)).not.toContain("upReplace");
    expect(f.ctx.counters.refetches).toBe(0);
    expect(acks).toEqual([big, big, big]);
    expect(f.ctx.counters.deliveriesDropped + f.ctx.counters.sleepRefused).toBe(3);
  });

  it("answers SUBSCRIBE to a wildcard filter with topic id 0x0000 after the broker's SUBACK", () => {
    const f = connected();
    const up = f.frame(
      { type: MsgType.Subscribe, dup: false, qos: 1, topicIdType: 0, msgId: 5, topicName: "a/+", topicId: 0 },
      0,
    );
    expect(up).toEqual([{ kind: "upSubscribe", filter: "a/+", qos: 1, msgId: 5 }]);
    expect(sent(f.run({ kind: "upSubAck", msgId: 5, granted: 1 }, 1))).toEqual([
      { type: MsgType.SubAck, qos: 1, topicId: 0, msgId: 5, returnCode: 0 },
    ]);
  });

  it("ends the session on a gateway-only message from the client (protocol violation)", () => {
    const f = connected();
    const effects = f.frame({ type: MsgType.Advertise, gwId: 1, duration: 10 }, 0);
    expect(sent(effects)).toEqual([{ type: MsgType.Disconnect, duration: undefined }]);
    expect(effects).toContainEqual({ kind: "upClose", graceful: false });
    expect(f.s.state).toBe("lost");
    expect(f.ctx.counters.protocolViolations).toBe(1);
  });

  it("answers DISCONNECT and closes upstream gracefully (no will)", () => {
    const f = connected();
    const effects = f.frame({ type: MsgType.Disconnect, duration: undefined }, 0);
    expect(effects).toEqual([
      { kind: "send", message: { type: MsgType.Disconnect, duration: undefined } },
      { kind: "upClose", graceful: true },
      { kind: "end", keep: false },
    ]);
    expect(f.s.state).toBe("disconnected");
  });

  it("tells the client with DISCONNECT when the broker drops the upstream connection", () => {
    const f = connected();
    const effects = f.run({ kind: "upClosed" }, 0);
    expect(sent(effects)).toEqual([{ type: MsgType.Disconnect, duration: undefined }]);
    expect(effects).toContainEqual({ kind: "end", keep: false });
    expect(f.s.state).toBe("lost");
  });

  it("replaces the upstream connection on WILLTOPICUPD and answers after the broker's CONNACK", () => {
    const f = connected();
    const effects = f.frame({ type: MsgType.WillTopicUpd, qos: 0, retain: false, willTopic: "w/new" }, 0);
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ kind: "upReplace", will: { topic: "w/new" } });
    expect(sent(f.run({ kind: "upConnack", ok: true, refused: false }, 1))).toEqual([
      { type: MsgType.WillTopicResp, returnCode: 0 },
    ]);
    expect(f.s.state).toBe("active");
  });

  it("replaces the connection again for a WILLMSGUPD that follows WILLTOPICUPD at once, and answers both after the next CONNACK", () => {
    const f = connected();
    const topicUpd = f.frame({ type: MsgType.WillTopicUpd, qos: 1, retain: true, willTopic: "w/new" }, 0);
    const msg = Buffer.from("gone");
    const msgUpd = f.frame(
      { type: MsgType.WillMsgUpd, willMsg: msg as unknown as Bytes, willMsgOffset: 0, willMsgLength: 4 },
      1,
    );
    expect(kinds(topicUpd)).toEqual(["upReplace"]);
    expect(kinds(msgUpd)).toEqual(["upReplace"]);
    const will = (msgUpd[0] as Extract<Effect, { kind: "upReplace" }>).will;
    expect({
      topic: will?.topic,
      qos: will?.qos,
      retain: will?.retain,
      payload: Buffer.from(will?.payload ?? []).toString(),
    }).toEqual({
      topic: "w/new",
      qos: 1,
      retain: true,
      payload: "gone",
    });
    expect(sent(f.run({ kind: "upConnack", ok: true, refused: false }, 2))).toEqual([
      { type: MsgType.WillTopicResp, returnCode: 0 },
      { type: MsgType.WillMsgResp, returnCode: 0 },
    ]);
    // Answered once: a late CONNACK finds nothing owed.
    expect(f.run({ kind: "upConnack", ok: true, refused: false }, 3)).toEqual([]);
    expect(f.s.state).toBe("active");
  });

  it("answers a retransmitted WILLTOPICUPD once", () => {
    const f = connected();
    const upd: Message = { type: MsgType.WillTopicUpd, qos: 0, retain: false, willTopic: "w/new" };
    expect(kinds(f.frame(upd, 0))).toEqual(["upReplace"]);
    expect(kinds(f.frame(upd, 1000))).toEqual(["upReplace"]);
    expect(sent(f.run({ kind: "upConnack", ok: true, refused: false }, 1001))).toEqual([
      { type: MsgType.WillTopicResp, returnCode: 0 },
    ]);
  });

  it("a CleanSession 0 session ending after a will update does not keep the message that was in flight: the broker sends it again, so the client gets it once", () => {
    const acks: string[] = [];
    const f = connected({ cleanSession: false });
    const [m] = sent(f.run({ kind: "upMessage", delivery: fromBroker("ab", "m", 2, acks) }, 0));
    expect(m).toMatchObject({ type: MsgType.Publish, qos: 2 });
    expect(kinds(f.frame({ type: MsgType.WillTopicUpd, qos: 0, retain: false, willTopic: "w/new" }, 10))).toEqual([
      "upReplace",
    ]);
    // The client leaves before the replaced connection is up; the message was never acknowledged upstream.
    const ended = f.frame({ type: MsgType.Disconnect, duration: undefined }, 20);
    const keptAfterEnd = f.s.queue.length;
    expect(acks).toEqual([]);

    // Next CONNECT: the broker sends the unacknowledged message again (MQTT 3.1.1 §4.4).
    f.connect(1000, { cleanSession: false });
    const connack = sent(f.run({ kind: "upConnack", ok: true, refused: false }, 1010));
    expect(connack[0]).toEqual({ type: MsgType.ConnAck, returnCode: 0 });
    const again = sent(f.run({ kind: "upMessage", delivery: fromBroker("ab", "m", 2, acks) }, 1020));
    expect(drainToClient(f, [...connack.slice(1), ...again], 1030)).toEqual(["m"]);
    expect(acks).toEqual(["m"]);
    // Nothing was stored, so the ended session had nothing to keep.
    expect(ended).toContainEqual({ kind: "end", keep: false });
    expect(keptAfterEnd).toBe(0);
  });

  it("a QoS 2 message the client did not answer reaches it again with the same MsgId and DUP set after it CONNECTs again (§6.7 exactly once)", () => {
    const acks: string[] = [];
    const f = connected({ cleanSession: false });
    const first = sent(
      f.run({ kind: "upMessage", delivery: { ...fromBroker("ab", "m", 2, acks), brokerPacketId: 7 } }, 0),
    );
    expect(first[0]).toMatchObject({ type: MsgType.Publish, qos: 2, dup: false });
    const msgId = (first[0] as { msgId: number }).msgId;
    // No PUBREC (lost on the radio): the client CONNECTs again; its upstream connection is kept.
    const again = sent(f.connect(1000, { cleanSession: false }));
    expect(again).toEqual([
      { type: MsgType.ConnAck, returnCode: 0 },
      expect.objectContaining({ type: MsgType.Publish, qos: 2, dup: true, msgId }),
    ]);
    f.frame({ type: MsgType.PubRec, msgId }, 1010);
    expect(acks).toEqual(["m"]);
    expect(f.s.qos2Sent.size).toBe(0);
  });

  it("a QoS 2 message the broker sends again on a new connection reaches the client with the MsgId it was first sent with, DUP set", () => {
    const acks: string[] = [];
    const f = connected({ cleanSession: false });
    const first = sent(
      f.run({ kind: "upMessage", delivery: { ...fromBroker("ab", "m", 2, acks), brokerPacketId: 7 } }, 0),
    );
    const msgId = (first[0] as { msgId: number }).msgId;
    // The broker drops the connection before the client answers: the session ends, but keeps the MsgId.
    expect(f.run({ kind: "upClosed" }, 10)).toContainEqual({ kind: "end", keep: true });
    f.connect(1000, { cleanSession: false });
    const connack = sent(f.run({ kind: "upConnack", ok: true, refused: false }, 1010));
    expect(connack).toEqual([{ type: MsgType.ConnAck, returnCode: 0 }]);
    // MQTT 3.1.1 §4.4: packet 7 comes again on the new connection.
    const resent = sent(
      f.run({ kind: "upMessage", delivery: { ...fromBroker("ab", "m", 2, acks), brokerPacketId: 7 } }, 1020),
    );
    expect(resent).toEqual([expect.objectContaining({ type: MsgType.Publish, qos: 2, dup: true, msgId })]);
    f.frame({ type: MsgType.PubRec, msgId }, 1030);
    expect(acks).toEqual(["m"]);
    // Answered: the same packet identifier later is a new message, with a new MsgId and no DUP (after PUBCOMP).
    const later = sent(
      f.run({ kind: "upMessage", delivery: { ...fromBroker("ab", "n", 2, acks), brokerPacketId: 7 } }, 2000),
    );
    expect(later).toEqual([]);
    const next = sent(f.frame({ type: MsgType.PubComp, msgId }, 2010));
    expect(next).toHaveLength(1);
    expect(next[0]).toMatchObject({ type: MsgType.Publish, qos: 2, dup: false });
    expect((next[0] as { msgId: number }).msgId).not.toBe(msgId);
  });

  it("a refused replacement CONNACK answers the will update 'congestion' and ends the session", () => {
    const f = connected();
    f.frame({ type: MsgType.WillTopicUpd, qos: 0, retain: false, willTopic: "w/new" }, 0);
    const effects = f.run({ kind: "upConnack", ok: false, refused: false }, 1);
    expect(sent(effects)).toEqual([
      { type: MsgType.WillTopicResp, returnCode: 1 },
      { type: MsgType.Disconnect, duration: undefined },
    ]);
    expect(effects).toContainEqual({ kind: "end", keep: false });
    expect(f.s.state).toBe("lost");
  });
});
