import { describe, expect, it } from "vitest";
import { MsgType, type Bytes, type Message } from "../../protocol";
import { step } from "../../gateway/session/machine";
import { newSession } from "../../gateway/session/session";
import { TopicTable } from "../../gateway/session/topics";
import {
  newCounters,
  type Delivery,
  type Effect,
  type Session,
  type SessionContext,
  type SessionEvent,
} from "../../gateway/session/types";

interface Fixture {
  s: Session;
  ctx: SessionContext;
  logs: Array<{ event: string; fields: Record<string, unknown> | undefined }>;
  /** Runs one event at time `now` and returns its effects. */
  run(event: SessionEvent, now: number): Effect[];
  frame(message: Message, now: number): Effect[];
}

function fixture(overrides: Partial<SessionContext> = {}, predefined: Record<string, number> = {}): Fixture {
  const logs: Fixture["logs"] = [];
  const record = (event: string, fields?: Record<string, unknown>): void => {
    logs.push({ event, fields });
  };
  const ctx: SessionContext = {
    maxTopicsPerClient: 10,
    maxInflight: 4,
    maxMessageSize: 1000,
    tRetryMs: 1000,
    nRetry: 2,
    keepAliveGraceMs: 0,
    willHandshakeTimeoutMs: 5000,
    upstreamConnectTimeoutMs: 5000,
    counters: newCounters(),
    log: { debug: record, info: record, warn: record, error: record },
    ...overrides,
  };
  const idByName = new Map(Object.entries(predefined));
  const nameById = new Map(Object.entries(predefined).map(([n, id]) => [id, n] as [number, string]));
  const s = newSession("test|127.0.0.1:1", new TopicTable(ctx.maxTopicsPerClient, idByName, nameById), 0);
  const run = (event: SessionEvent, now: number): Effect[] => {
    const out: Effect[] = [];
    step(s, event, now, ctx, out);
    return out;
  };
  return { s, ctx, logs, run, frame: (message, now) => run({ kind: "frame", message }, now) };
}

const sent = (effects: Effect[]): Message[] => effects.flatMap((e) => (e.kind === "send" ? [e.message] : []));
const kinds = (effects: Effect[]): string[] =>
  effects.map((e) => (e.kind === "send" ? `send:${e.message.type}` : e.kind));

function connected(
  duration = 10,
  overrides: Partial<SessionContext> = {},
  predefined: Record<string, number> = {},
): Fixture {
  const f = fixture(overrides, predefined);
  f.frame({ type: MsgType.Connect, will: false, cleanSession: true, duration, clientId: "c1" }, 0);
  f.run({ kind: "upConnack", ok: true, refused: false }, 0);
  return f;
}

function delivery(topic: string, qos: 0 | 1 | 2, acks: string[] = []): Delivery {
  return {
    topic,
    payload: Buffer.from("p"),
    qos,
    retain: false,
    token: qos === 0 ? undefined : () => acks.push(topic),
    reregistered: false,
  };
}

function publish(topicId: number, qos: -1 | 0 | 1 | 2, msgId: number, dup = false): Message {
  const data = Buffer.from("x");
  return {
    type: MsgType.Publish,
    dup,
    qos,
    retain: false,
    topicIdType: 0,
    topicId,
    msgId,
    data: data as unknown as Bytes,
    dataOffset: 0,
    dataLength: 1,
  };
}

describe("session state machine (fake clock)", () => {
  it("runs the will handshake, connects upstream with the will, and sends CONNACK only after the broker answered", () => {
    const f = fixture();
    expect(
      sent(f.frame({ type: MsgType.Connect, will: true, cleanSession: true, duration: 30, clientId: "c1" }, 0)),
    ).toEqual([{ type: MsgType.WillTopicReq }]);
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
    const transitions = f.logs
      .filter((l) => l.event === "session-state")
      .map((l) => `${l.fields?.from}→${l.fields?.to}`);
    expect(transitions).toEqual([
      "new→awaitingWillTopic",
      "awaitingWillTopic→awaitingWillMsg",
      "awaitingWillMsg→connectingUpstream",
      "connectingUpstream→active",
    ]);
  });

  it("answers CONNACK 'not supported' on a broker refusal and 'congestion' when the broker does not answer in time", () => {
    const refused = fixture();
    refused.frame({ type: MsgType.Connect, will: false, cleanSession: true, duration: 30, clientId: "c1" }, 0);
    expect(kinds(refused.run({ kind: "upConnack", ok: false, refused: true }, 5))).toEqual([
      `send:${MsgType.ConnAck}`,
      "upClose",
      "end",
    ]);
    expect(refused.s.state).toBe("disconnected");

    const slow = fixture();
    slow.frame({ type: MsgType.Connect, will: false, cleanSession: true, duration: 30, clientId: "c1" }, 0);
    expect(slow.s.deadline).toBe(5000);
    expect(slow.run({ kind: "tick" }, 4999)).toEqual([]);
    expect(sent(slow.run({ kind: "tick" }, 5000))).toEqual([{ type: MsgType.ConnAck, returnCode: 1 }]);
  });

  it("takes a client silent past keep-alive × 1.5 as lost and drops upstream without DISCONNECT (will published)", () => {
    const f = connected(10);
    f.frame({ type: MsgType.PingReq, clientId: undefined }, 4000);
    expect(f.s.deadline).toBe(19_000);
    expect(f.run({ kind: "tick" }, 18_999)).toEqual([]);
    const effects = f.run({ kind: "tick" }, 19_000);
    expect(effects).toContainEqual({ kind: "upClose", graceful: false });
    expect(f.s.state).toBe("lost");
    expect(f.ctx.counters.clientsLost).toBe(1);
  });

  it("retransmits PUBLISH QoS 1 with DUP every T_RETRY, N_RETRY times, then the client is lost", () => {
    const f = connected(0);
    const first = sent(f.run({ kind: "upMessage", delivery: delivery("ab", 1) }, 100));
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
    const f = connected(0);
    const [p] = sent(f.run({ kind: "upMessage", delivery: delivery("ab", 2, acks) }, 0)) as unknown as [
      { msgId: number },
    ];
    const rel = f.frame({ type: MsgType.PubRec, msgId: p.msgId }, 10);
    expect(kinds(rel)).toEqual(["upAck", `send:${MsgType.PubRel}`]);
    (rel[0] as { token: () => void }).token();
    expect(acks).toEqual(["ab"]);
    expect(sent(f.run({ kind: "tick" }, 1010))).toEqual([{ type: MsgType.PubRel, msgId: p.msgId }]);
    expect(f.frame({ type: MsgType.PubComp, msgId: p.msgId }, 1020)).toEqual([]);
    expect(f.s.inFlight).toBeUndefined();
    expect(f.s.deadline).toBe(Infinity);
  });

  it("REGISTERs an unknown topic first and publishes only after REGACK; a refused REGISTER drops the message", () => {
    const acks: string[] = [];
    const f = connected(0);
    const reg = sent(f.run({ kind: "upMessage", delivery: delivery("a/long/topic", 1, acks) }, 0));
    expect(reg).toHaveLength(1);
    const r = reg[0] as Extract<Message, { type: MsgType.Register }>;
    expect(r).toMatchObject({ type: MsgType.Register, topicName: "a/long/topic" });
    expect(f.s.topics.idOf("a/long/topic")).toBeUndefined();
    const pub = sent(f.frame({ type: MsgType.RegAck, topicId: r.topicId, msgId: r.msgId, returnCode: 0 }, 5));
    expect(pub[0]).toMatchObject({ type: MsgType.Publish, topicId: r.topicId, topicIdType: 0 });
    expect(f.s.topics.idOf("a/long/topic")).toBe(r.topicId);

    const g = connected(0);
    const [r2] = sent(g.run({ kind: "upMessage", delivery: delivery("x/y", 1, acks) }, 0)) as [
      Extract<Message, { type: MsgType.Register }>,
    ];
    const refused = g.frame({ type: MsgType.RegAck, topicId: r2.topicId, msgId: r2.msgId, returnCode: 3 }, 5);
    expect(kinds(refused)).toEqual(["upAck"]);
    expect(g.s.topics.idOf("x/y")).toBeUndefined();
    expect(g.ctx.counters.deliveriesDropped).toBe(1);
  });

  it("registers again once when the client answers PUBACK 0x02", () => {
    const f = connected(0);
    const [r] = sent(f.run({ kind: "upMessage", delivery: delivery("t/one", 1) }, 0)) as [
      Extract<Message, { type: MsgType.Register }>,
    ];
    const [p] = sent(
      f.frame({ type: MsgType.RegAck, topicId: r.topicId, msgId: r.msgId, returnCode: 0 }, 1),
    ) as unknown as [{ msgId: number }];
    const again = sent(f.frame({ type: MsgType.PubAck, topicId: r.topicId, msgId: p.msgId, returnCode: 2 }, 2));
    expect(again[0]).toMatchObject({ type: MsgType.Register, topicName: "t/one" });
  });

  it("forwards a QoS 2 PUBLISH once however often it is duplicated, and answers every copy", () => {
    const f = connected(0);
    const reg = sent(f.frame({ type: MsgType.Register, topicId: 0, msgId: 1, topicName: "q2/t" }, 0))[0] as {
      topicId: number;
    };
    const first = f.frame(publish(reg.topicId, 2, 9), 1);
    expect(kinds(first)).toEqual(["upPublish"]);
    expect(f.frame(publish(reg.topicId, 2, 9, true), 2)).toEqual([]);
    expect(sent(f.run({ kind: "upPublished", msgId: 9, ok: true }, 3))).toEqual([{ type: MsgType.PubRec, msgId: 9 }]);
    expect(sent(f.frame(publish(reg.topicId, 2, 9, true), 4))).toEqual([{ type: MsgType.PubRec, msgId: 9 }]);
    expect(sent(f.frame({ type: MsgType.PubRel, msgId: 9 }, 5))).toEqual([{ type: MsgType.PubComp, msgId: 9 }]);
    // After PUBCOMP the id is free again: a new message with it is forwarded.
    expect(kinds(f.frame(publish(reg.topicId, 2, 9), 6))).toEqual(["upPublish"]);
  });

  it("answers PUBACK congestion past maxInflight client publishes awaiting the broker", () => {
    const f = connected(0, { maxInflight: 2 });
    const reg = sent(f.frame({ type: MsgType.Register, topicId: 0, msgId: 1, topicName: "t" }, 0))[0] as {
      topicId: number;
    };
    expect(kinds(f.frame(publish(reg.topicId, 1, 1), 1))).toEqual(["upPublish"]);
    expect(kinds(f.frame(publish(reg.topicId, 1, 2), 1))).toEqual(["upPublish"]);
    expect(sent(f.frame(publish(reg.topicId, 1, 3), 1))).toEqual([
      { type: MsgType.PubAck, topicId: reg.topicId, msgId: 3, returnCode: 1 },
    ]);
    f.run({ kind: "upPublished", msgId: 1, ok: true }, 2);
    expect(kinds(f.frame(publish(reg.topicId, 1, 4), 3))).toEqual(["upPublish"]);
  });

  it("answers REGACK congestion when the topic table is full", () => {
    const f = connected(0, { maxTopicsPerClient: 1 });
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

  it("bounds the outbound queue: QoS 0 beyond maxInflight is dropped and counted", () => {
    const f = connected(0, { maxInflight: 2 });
    f.run({ kind: "upMessage", delivery: delivery("ab", 1) }, 0);
    f.run({ kind: "upMessage", delivery: delivery("ab", 0) }, 0);
    f.run({ kind: "upMessage", delivery: delivery("ab", 0) }, 0);
    expect(f.s.outQueue).toHaveLength(2);
    f.run({ kind: "upMessage", delivery: delivery("ab", 0) }, 0);
    expect(f.s.outQueue).toHaveLength(2);
    expect(f.ctx.counters.deliveriesDropped).toBe(1);
  });

  it("leaves a QoS 1 message unacknowledged at the broker when the queue is full of QoS 1/2", () => {
    const acks: string[] = [];
    const f = connected(0, { maxInflight: 2 });
    f.run({ kind: "upMessage", delivery: delivery("ab", 1, acks) }, 0);
    f.run({ kind: "upMessage", delivery: delivery("cd", 1, acks) }, 0);
    f.run({ kind: "upMessage", delivery: delivery("ef", 1, acks) }, 0);
    const dropped = f.run({ kind: "upMessage", delivery: delivery("gh", 1, acks) }, 0);
    expect(dropped).toEqual([]);
    expect(f.s.outQueue.map((d) => d.topic)).toEqual(["cd", "ef"]);
    expect(f.ctx.counters.deliveriesDropped).toBe(1);
    expect(acks).toEqual([]);
  });

  it("answers SUBSCRIBE to a wildcard filter with topic id 0x0000 after the broker's SUBACK", () => {
    const f = connected(0);
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
    const f = connected(0);
    const effects = f.frame({ type: MsgType.Advertise, gwId: 1, duration: 10 }, 0);
    expect(sent(effects)).toEqual([{ type: MsgType.Disconnect, duration: undefined }]);
    expect(f.s.state).toBe("lost");
    expect(f.ctx.counters.protocolViolations).toBe(1);
  });

  it("answers DISCONNECT and closes upstream gracefully (no will)", () => {
    const f = connected(0);
    const effects = f.frame({ type: MsgType.Disconnect, duration: undefined }, 0);
    expect(effects).toEqual([
      { kind: "send", message: { type: MsgType.Disconnect, duration: undefined } },
      { kind: "upClose", graceful: true },
      { kind: "end" },
    ]);
    expect(f.s.state).toBe("disconnected");
  });

  it("tells the client with DISCONNECT when the broker drops the upstream connection", () => {
    const f = connected(0);
    const effects = f.run({ kind: "upClosed" }, 0);
    expect(sent(effects)).toEqual([{ type: MsgType.Disconnect, duration: undefined }]);
    expect(effects).toContainEqual({ kind: "end" });
    expect(f.s.state).toBe("lost");
  });

  it("replaces the upstream connection on WILLTOPICUPD and answers after the broker's CONNACK", () => {
    const f = connected(0);
    const effects = f.frame({ type: MsgType.WillTopicUpd, qos: 0, retain: false, willTopic: "w/new" }, 0);
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ kind: "upReplaceWill", will: { topic: "w/new" } });
    expect(sent(f.run({ kind: "upConnack", ok: true, refused: false }, 1))).toEqual([
      { type: MsgType.WillTopicResp, returnCode: 0 },
    ]);
    expect(f.s.state).toBe("active");
  });
});
