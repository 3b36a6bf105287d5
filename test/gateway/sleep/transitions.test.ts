import { describe, expect, it } from "vitest";
import { MsgType, type Message, type Publish } from "../../../protocol";
import { step } from "../../../gateway/session/machine";
import { newSession } from "../../../gateway/session/session";
import { TopicTable } from "../../../gateway/session/topics";
import { carryKept, takeAcknowledged, takeOver } from "../../../gateway/sleep/transitions";
import {
  newCounters,
  type Delivery,
  type Effect,
  type Session,
  type SessionContext,
  type SessionEvent,
} from "../../../gateway/session/types";

/**
 * Every sleeping-client transition of §6.14 on a fake clock: the session logic alone, time passed in,
 * effects inspected. The shell (UDP, broker, store) is covered by test/e2e/sleep*.test.ts.
 */

interface Fixture {
  s: Session;
  ctx: SessionContext;
  transitions: string[];
  run(event: SessionEvent, now: number): Effect[];
  frame(message: Message, now: number): Effect[];
}

const GRACE = 500;

function fixture(limits = { maxMessages: 10, maxBytes: 10_000 }, cleanSession = false, keepAlive = 10): Fixture {
  const transitions: string[] = [];
  const record = (event: string, fields?: Record<string, unknown>): void => {
    if (event === "session-state") transitions.push(`${String(fields?.from)}→${String(fields?.to)}`);
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
    sleep: { limitsFor: () => limits, graceMs: GRACE },
    counters: newCounters(),
    log: { debug: record, info: record, warn: record, error: record },
  };
  const s = newSession("127.0.0.1:1", new TopicTable(10, new Map(), new Map()), 0);
  const run = (event: SessionEvent, now: number): Effect[] => {
    const out: Effect[] = [];
    step(s, event, now, ctx, out);
    // As the shell does: an acknowledgement effect calls the token.
    for (const e of out) if (e.kind === "upAck") e.token();
    return out;
  };
  const f: Fixture = { s, ctx, transitions, run, frame: (message, now) => run({ kind: "frame", message }, now) };
  f.frame({ type: MsgType.Connect, will: false, cleanSession, duration: keepAlive, clientId: "sleepy" }, 0);
  f.run({ kind: "upConnack", ok: true, refused: false }, 0);
  return f;
}

const sent = (effects: Effect[]): Message[] => effects.flatMap((e) => (e.kind === "send" ? [e.message] : []));
const names: Record<number, string> = {
  [MsgType.Disconnect]: "Disconnect",
  [MsgType.PingResp]: "PingResp",
  [MsgType.Publish]: "Publish",
  [MsgType.Register]: "Register",
};
const kinds = (effects: Effect[]): string[] =>
  effects.map((e) => (e.kind === "send" ? `send:${names[e.message.type] ?? e.message.type}` : e.kind));
const text = (m: Message): string => {
  const p = m as Publish;
  return Buffer.from((p.data as unknown as Uint8Array).subarray(p.dataOffset, p.dataOffset + p.dataLength)).toString();
};

function delivery(topic: string, payload: string, qos: 0 | 1 | 2, acks: string[] = [], durable = false): Delivery {
  const d: Delivery = {
    topic,
    payload: Buffer.from(payload),
    qos,
    retain: false,
    token: qos === 0 ? undefined : () => acks.push(payload),
    reregistered: false,
  };
  if (durable) d.durable = true;
  return d;
}

const sleepFor = (f: Fixture, duration: number, now: number): Effect[] =>
  f.frame({ type: MsgType.Disconnect, duration }, now);
const ping = (f: Fixture, now: number, clientId: string | undefined = "sleepy"): Effect[] =>
  f.frame({ type: MsgType.PingReq, clientId }, now);

describe("sleeping clients (fake clock), §6.14", () => {
  it("active → asleep on DISCONNECT with a duration: DISCONNECT answered, the record persisted, nothing sent while asleep", () => {
    const f = fixture();
    const effects = sleepFor(f, 60, 1000);
    expect(kinds(effects)).toEqual(["send:Disconnect", "sleepPersist"]);
    expect(sent(effects)).toEqual([{ type: MsgType.Disconnect, duration: undefined }]);
    expect(f.s.state).toBe("asleep");
    expect(f.transitions).toContain("active→asleep");
    expect(sent(f.run({ kind: "upMessage", delivery: delivery("a/b", "x", 0) }, 1100))).toEqual([]);
    expect(f.s.sleep?.buffer.length).toBe(1);
  });

  it("acknowledges upstream at once what it cannot hold durably, and leaves a durable message's token for the client's answer", () => {
    const f = fixture();
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    expect(kinds(f.run({ kind: "upMessage", delivery: delivery("a/b", "plain", 1, acks) }, 10))).toEqual(["upAck"]);
    expect(f.run({ kind: "upMessage", delivery: delivery("a/b", "stored", 1, acks, true) }, 20)).toEqual([]);
    expect(f.s.sleep?.buffer.length).toBe(2);
  });

  it("asleep → awake on PINGREQ: REGISTER first, the QoS flows in arrival order, PINGRESP only after the last, then asleep again", () => {
    const f = fixture();
    sleepFor(f, 60, 0);
    const storeDeletes: string[] = [];
    f.run({ kind: "upMessage", delivery: delivery("t/one", "m0", 0) }, 10);
    f.run({ kind: "upMessage", delivery: delivery("t/one", "m1", 1, storeDeletes, true) }, 20);
    f.run({ kind: "upMessage", delivery: delivery("t/two", "m2", 2, storeDeletes, true) }, 30);

    let out = sent(ping(f, 1000));
    expect(f.s.state).toBe("awake");
    expect(out.map((m) => m.type)).toEqual([MsgType.Register]);
    const reg1 = out[0] as Extract<Message, { type: MsgType.Register }>;
    expect(reg1.topicName).toBe("t/one");

    out = sent(f.frame({ type: MsgType.RegAck, topicId: reg1.topicId, msgId: reg1.msgId, returnCode: 0 }, 1010));
    // m0 (QoS 0) goes at once, m1 (QoS 1) waits for its PUBACK.
    expect(out.map(text)).toEqual(["m0", "m1"]);
    const m1 = out[1] as Publish;
    expect(out.some((m) => m.type === MsgType.PingResp)).toBe(false);

    out = sent(f.frame({ type: MsgType.PubAck, topicId: m1.topicId, msgId: m1.msgId, returnCode: 0 }, 1020));
    expect(storeDeletes).toEqual(["m1"]);
    const reg2 = out[0] as Extract<Message, { type: MsgType.Register }>;
    expect(reg2).toMatchObject({ type: MsgType.Register, topicName: "t/two" });

    out = sent(f.frame({ type: MsgType.RegAck, topicId: reg2.topicId, msgId: reg2.msgId, returnCode: 0 }, 1030));
    const m2 = out[0] as Publish;
    expect(text(m2)).toBe("m2");
    expect(m2.qos).toBe(2);
    out = sent(f.frame({ type: MsgType.PubRec, msgId: m2.msgId }, 1040));
    expect(out).toEqual([{ type: MsgType.PubRel, msgId: m2.msgId }]);
    expect(f.s.state).toBe("awake");

    out = sent(f.frame({ type: MsgType.PubComp, msgId: m2.msgId }, 1050));
    expect(out).toEqual([{ type: MsgType.PingResp }]);
    expect(f.s.state).toBe("asleep");
    expect(storeDeletes).toEqual(["m1", "m2"]);
    expect(f.transitions.slice(-2)).toEqual(["asleep→awake", "awake→asleep"]);

    // Delivered once: the next PINGREQ finds nothing buffered.
    expect(sent(ping(f, 2000))).toEqual([{ type: MsgType.PingResp }]);
    expect(f.s.state).toBe("asleep");
  });

  it("while awake retransmits an unanswered PUBLISH with DUP after T_RETRY, and still answers PINGRESP last", () => {
    const f = fixture();
    sleepFor(f, 60, 0);
    f.run({ kind: "upMessage", delivery: delivery("ab", "short", 1, [], true) }, 10);
    const first = sent(ping(f, 100))[0] as Publish;
    expect(first.dup).toBe(false);
    expect(f.s.deadline).toBe(1100);
    expect(f.run({ kind: "tick" }, 1099)).toEqual([]);
    const again = sent(f.run({ kind: "tick" }, 1100))[0] as Publish;
    expect(again).toMatchObject({ msgId: first.msgId, dup: true });
    expect(f.ctx.counters.retransmissions).toBe(1);
    expect(
      sent(f.frame({ type: MsgType.PubAck, topicId: first.topicId, msgId: first.msgId, returnCode: 0 }, 1200)),
    ).toEqual([{ type: MsgType.PingResp }]);
  });

  it("is supervised by its sleep duration plus grace only, not by its keep-alive; expiry → lost, upstream dropped so the will is published", () => {
    const f = fixture(undefined, false, 2);
    sleepFor(f, 30, 1000);
    expect(f.s.deadline).toBe(1000 + 30_000 + GRACE);
    // Keep-alive 2 s × 1.5 long past: still asleep.
    expect(f.run({ kind: "tick" }, 20_000)).toEqual([]);
    expect(f.s.state).toBe("asleep");
    expect(f.run({ kind: "tick" }, 31_499)).toEqual([]);
    const effects = f.run({ kind: "tick" }, 31_500);
    expect(effects).toContainEqual({ kind: "upClose", graceful: false });
    expect(effects).toContainEqual({ kind: "end" });
    expect(f.s.state).toBe("lost");
    expect(f.ctx.counters.sleepExpired).toBe(1);
  });

  it("a PINGREQ restarts the sleep supervision", () => {
    const f = fixture();
    sleepFor(f, 10, 0);
    ping(f, 9000);
    expect(f.s.state).toBe("asleep");
    expect(f.s.deadline).toBe(9000 + 10_000 + GRACE);
  });

  it("asleep → disconnected on DISCONNECT without a duration: answered, upstream closed gracefully (no will)", () => {
    const f = fixture();
    sleepFor(f, 60, 0);
    const effects = f.frame({ type: MsgType.Disconnect, duration: undefined }, 100);
    expect(kinds(effects)).toEqual(["send:Disconnect", "upClose", "end"]);
    expect(effects).toContainEqual({ kind: "upClose", graceful: true });
    expect(f.s.state).toBe("disconnected");
  });

  it("ignores and counts a PINGREQ carrying another client id", () => {
    const f = fixture();
    sleepFor(f, 60, 0);
    f.run({ kind: "upMessage", delivery: delivery("ab", "kept", 0) }, 10);
    expect(ping(f, 100, "someone-else")).toEqual([]);
    expect(f.s.state).toBe("asleep");
    expect(f.ctx.counters.spoofedWakeups).toBe(1);
    expect(f.s.sleep?.buffer.length).toBe(1);
  });

  it("awake → asleep on a new DISCONNECT with a duration: what was not sent yet goes back to the buffer, nothing is resent while asleep", () => {
    const f = fixture();
    sleepFor(f, 60, 0);
    f.run({ kind: "upMessage", delivery: delivery("ab", "q1", 1, [], true) }, 10);
    f.run({ kind: "upMessage", delivery: delivery("ab", "q0", 0) }, 20);
    const first = sent(ping(f, 100))[0] as Publish;
    expect(text(first)).toBe("q1");
    expect(kinds(sleepFor(f, 5, 200))).toEqual(["send:Disconnect", "sleepPersist"]);
    expect(f.s.state).toBe("asleep");
    expect(f.s.sleep?.buffer.length).toBe(1);
    // The QoS 1 in flight is not retransmitted while asleep …
    expect(f.run({ kind: "tick" }, 2000)).toEqual([]);
    // … but once more, DUP set, when the client wakes, before the rest.
    const out = sent(ping(f, 3000));
    expect(out.map((m) => [text(m), (m as Publish).dup])).toEqual([["q1", true]]);
    const rest = sent(
      f.frame({ type: MsgType.PubAck, topicId: first.topicId, msgId: first.msgId, returnCode: 0 }, 3100),
    );
    expect(rest.map((m) => (m.type === MsgType.PingResp ? "PINGRESP" : text(m)))).toEqual(["q0", "PINGRESP"]);
  });

  it("overflow: the oldest QoS 0 goes first; a QoS 1 that cannot be held stays unacknowledged and upstream is paused until the wake", () => {
    const f = fixture({ maxMessages: 2, maxBytes: 10_000 });
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    f.run({ kind: "upMessage", delivery: delivery("ab", "old0", 0) }, 1);
    f.run({ kind: "upMessage", delivery: delivery("ab", "a1", 1, acks, true) }, 2);
    f.run({ kind: "upMessage", delivery: delivery("ab", "b1", 1, acks, true) }, 3);
    expect(f.ctx.counters.sleepDropped).toBe(1);
    const refused = f.run({ kind: "upMessage", delivery: delivery("ab", "c1", 1, acks) }, 4);
    expect(refused).toEqual([{ kind: "upClose", graceful: true }]);
    expect(acks).toEqual([]);
    expect(f.ctx.counters.sleepRefused).toBe(1);
    expect(f.s.sleep?.upstreamPaused).toBe(true);
    const woken = ping(f, 100);
    expect(woken).toContainEqual({ kind: "upConnect", will: undefined });
    expect(f.s.sleep?.upstreamPaused).toBe(false);
  });

  it("asleep or awake → active on CONNECT: the new session delivers what the sleeping one held, in order, after its CONNACK", () => {
    for (const wakeFirst of [false, true]) {
      const old = fixture();
      sleepFor(old, 60, 0);
      old.run({ kind: "upMessage", delivery: delivery("ab", "h1", 1, [], true) }, 10);
      old.run({ kind: "upMessage", delivery: delivery("ab", "h0", 0) }, 20);
      old.run({ kind: "upMessage", delivery: delivery("ab", "h2", 1, [], true) }, 30);
      if (wakeFirst) {
        expect(sent(ping(old, 100)).map(text)).toEqual(["h1"]);
        expect(old.s.state).toBe("awake");
      }
      // The shell starts a new session for the CONNECT and hands it the old one's messages.
      const fresh = fixture();
      const s = newSession("127.0.0.1:1", new TopicTable(10, new Map(), new Map()), 200);
      takeOver(old.s, s);
      const out: Effect[] = [];
      step(
        s,
        {
          kind: "frame",
          message: { type: MsgType.Connect, will: false, cleanSession: false, duration: 30, clientId: "sleepy" },
        },
        200,
        fresh.ctx,
        out,
      );
      expect(sent(out)).toEqual([]);
      const connack: Effect[] = [];
      step(s, { kind: "upConnack", ok: true, refused: false }, 210, fresh.ctx, connack);
      const first = sent(connack);
      expect(first[0]).toEqual({ type: MsgType.ConnAck, returnCode: 0 });
      expect(first.slice(1).map(text)).toEqual(["h1"]);
      expect(s.state).toBe("active");
      const rest: Effect[] = [];
      step(
        s,
        {
          kind: "frame",
          message: {
            type: MsgType.PubAck,
            topicId: (first[1] as Publish).topicId,
            msgId: (first[1] as Publish).msgId,
            returnCode: 0,
          },
        },
        220,
        fresh.ctx,
        rest,
      );
      expect(sent(rest).map(text)).toEqual(["h0", "h2"]);
    }
  });

  it("lost while asleep with CleanSession 0: the acknowledged QoS 1/2 messages are kept and come first after the next CONNACK, before newer ones", () => {
    const old = fixture();
    sleepFor(old, 1, 0);
    const stored: string[] = [];
    old.run({ kind: "upMessage", delivery: delivery("s/kept", "k1", 1, stored, true) }, 10);
    old.run({ kind: "upMessage", delivery: delivery("s/kept", "k0", 0) }, 20);
    old.run({ kind: "upMessage", delivery: delivery("s/kept", "k2", 2, stored, true) }, 30);
    expect(kinds(old.run({ kind: "tick" }, 1000 + GRACE))).toEqual(["upClose", "end"]);
    expect(old.s.state).toBe("lost");
    const { kept, discarded } = takeAcknowledged(old.s);
    expect(kept.map((h) => Buffer.from(h.payload).toString())).toEqual(["k1", "k2"]);
    expect(discarded).toBe(1);
    expect(old.s.sleep?.buffer.length).toBe(0);

    const fresh = fixture();
    const s = newSession("127.0.0.1:2", new TopicTable(10, new Map(), new Map()), 5000);
    s.outQueue.push(delivery("s/kept", "newer", 1));
    carryKept(s, kept);
    step(
      s,
      {
        kind: "frame",
        message: { type: MsgType.Connect, will: false, cleanSession: false, duration: 30, clientId: "sleepy" },
      },
      5000,
      fresh.ctx,
      [],
    );
    const connack: Effect[] = [];
    step(s, { kind: "upConnack", ok: true, refused: false }, 5010, fresh.ctx, connack);
    const first = sent(connack);
    expect(first[0]).toEqual({ type: MsgType.ConnAck, returnCode: 0 });
    // REGISTER first: the new session does not know the topic yet.
    expect(first[1]?.type).toBe(MsgType.Register);
    const texts: string[] = [];
    let next = first.slice(1);
    for (let i = 0; i < 10 && next.length > 0; i++) {
      const out: Effect[] = [];
      for (const m of next) {
        if (m.type === MsgType.Register)
          step(
            s,
            { kind: "frame", message: { type: MsgType.RegAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 } },
            5020,
            fresh.ctx,
            out,
          );
        if (m.type === MsgType.Publish) {
          texts.push(text(m));
          const answer: Message =
            m.qos === 2
              ? { type: MsgType.PubRec, msgId: m.msgId }
              : { type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 };
          step(s, { kind: "frame", message: answer }, 5020, fresh.ctx, out);
        }
        if (m.type === MsgType.PubRel)
          step(s, { kind: "frame", message: { type: MsgType.PubComp, msgId: m.msgId } }, 5020, fresh.ctx, out);
      }
      for (const e of out) if (e.kind === "upAck") e.token();
      next = sent(out);
    }
    expect(texts).toEqual(["k1", "k2", "newer"]);
    // Each durable copy is deleted once the client has the message.
    expect(stored).toEqual(["k1", "k2"]);
  });

  it("lost while asleep with CleanSession 1: nothing is kept", () => {
    const f = fixture(undefined, true);
    sleepFor(f, 1, 0);
    f.run({ kind: "upMessage", delivery: delivery("ab", "c1", 1) }, 10);
    f.run({ kind: "tick" }, 1000 + GRACE);
    expect(takeAcknowledged(f.s)).toEqual({ kept: [], discarded: 1 });
  });

  it("overflow with CleanSession 1: a QoS 1 that cannot be held is acknowledged, dropped and counted (no persistent session keeps it)", () => {
    const f = fixture({ maxMessages: 1, maxBytes: 10_000 }, true);
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    f.run({ kind: "upMessage", delivery: delivery("ab", "a1", 1, acks) }, 1);
    const effects = f.run({ kind: "upMessage", delivery: delivery("ab", "b1", 1, acks) }, 2);
    expect(kinds(effects)).toEqual(["upAck"]);
    expect(f.ctx.counters.sleepRefused).toBe(1);
    expect(f.s.sleep?.upstreamPaused).toBe(false);
  });
});
