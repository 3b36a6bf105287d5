import { describe, expect, it } from "vitest";
import { MsgType, type Message, type Publish } from "../../../protocol";
import type { Delivery, Effect } from "../../../gateway/session/types";
import type { SleepBufferLimits } from "../../../gateway/sleep/buffer";
import {
  accept,
  drainToClient,
  fromBroker,
  GRACE_MS,
  harness,
  HOME,
  kinds,
  sent,
  storedEvent,
  text,
  type Harness,
} from "../support/session-harness";

/**
 * Every sleeping-client transition of §6.14 on a fake clock: the session machine alone, time passed in,
 * effects inspected. The shell (UDP, broker, store) is covered by test/e2e/sleep*.test.ts.
 */

const OTHER = "udp 127.0.0.1:2";

interface SleeperOptions {
  limits?: SleepBufferLimits;
  cleanSession?: boolean;
  keepAlive?: number;
  /** A durable store exists (sleep.store). */
  durable?: boolean;
}

/** A connected client "sleepy", CleanSession 0 unless told. */
function sleeper(options: SleeperOptions = {}): Harness {
  const h = harness({ limits: options.limits, ctx: { durable: options.durable ?? false } });
  h.connect(0, { cleanSession: options.cleanSession ?? false, duration: options.keepAlive ?? 10, clientId: "sleepy" });
  h.run({ kind: "upConnack", ok: true, refused: false }, 0);
  return h;
}

const sleepFor = (f: Harness, duration: number, now: number): Effect[] =>
  f.frame({ type: MsgType.Disconnect, duration }, now);
const ping = (f: Harness, now: number, clientId: string | undefined = "sleepy"): Effect[] =>
  f.frame({ type: MsgType.PingReq, clientId }, now);
const queued = (f: Harness): string[] => f.s.queue.toArray().map((d) => Buffer.from(d.payload).toString());
const reconnect = (f: Harness, now: number, cleanSession: boolean, key = HOME): Effect[] =>
  f.connect(now, { cleanSession, duration: 30, clientId: "sleepy" }, key);

/** A message from the broker while asleep, written to the store and acknowledged to the broker (custody "store"). */
function storeWhileAsleep(f: Harness, d: Delivery, now: number, deletes: string[]): void {
  const effects = f.run({ kind: "upMessage", delivery: d }, now);
  expect(effects).toEqual([{ kind: "store", delivery: d }]);
  f.run(storedEvent(d, deletes), now);
  expect(d.custody).toBe("store");
}

describe("sleeping clients (fake clock), §6.14", () => {
  it("active → asleep on DISCONNECT with a duration: DISCONNECT answered, the record persisted, nothing sent while asleep", () => {
    const f = sleeper();
    const effects = sleepFor(f, 60, 1000);
    expect(kinds(effects)).toEqual(["send:Disconnect", "persist"]);
    expect(sent(effects)).toEqual([{ type: MsgType.Disconnect, duration: undefined }]);
    expect(effects).toContainEqual({ kind: "persist", state: "asleep" });
    expect(f.s.state).toBe("asleep");
    expect(f.transitions()).toContain("active→asleep");
    expect(sent(f.run({ kind: "upMessage", delivery: fromBroker("a/b", "x", 0) }, 1100))).toEqual([]);
    expect(f.s.queue.length).toBe(1);
  });

  it("with a store, a sleeping CleanSession 0 session writes QoS 1/2 messages to it and acknowledges the broker only once they are stored", () => {
    const f = sleeper({ durable: true });
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    const deletes: string[] = [];
    const d = fromBroker("ab", "kept", 1, acks);
    expect(f.run({ kind: "upMessage", delivery: d }, 10)).toEqual([{ kind: "store", delivery: d }]);
    expect(f.run({ kind: "upMessage", delivery: fromBroker("ab", "plain", 0) }, 15)).toEqual([]);
    expect(acks).toEqual([]);
    expect(d.custody).toBe("broker");

    expect(kinds(f.run(storedEvent(d, deletes), 20))).toEqual(["release"]);
    expect(acks).toEqual(["kept"]);
    expect(deletes).toEqual([]);
    expect(d.custody).toBe("store");
    expect(queued(f)).toEqual(["kept", "plain"]);

    // The client's PUBACK deletes the stored copy; the broker is not acknowledged twice.
    const [p] = sent(ping(f, 100));
    expect(text(p as Message)).toBe("kept");
    f.frame(accept(p as Message), 110);
    expect(deletes).toEqual(["kept"]);
    expect(acks).toEqual(["kept"]);
  });

  it("going to sleep writes the queued QoS 1/2 messages to the store; the one in flight and QoS 0 stay as they are", () => {
    const f = sleeper({ durable: true });
    const a = fromBroker("ab", "a", 1);
    const b = fromBroker("ab", "b", 2);
    f.run({ kind: "upMessage", delivery: a }, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "c", 0) }, 0);
    f.run({ kind: "upMessage", delivery: b }, 0);
    expect(f.s.inFlight?.delivery).toBe(a);
    const effects = sleepFor(f, 60, 10);
    expect(kinds(effects)).toEqual(["send:Disconnect", "persist", "store"]);
    expect(effects[2]).toEqual({ kind: "store", delivery: b });
  });

  it("without a store, or with CleanSession 1, nothing is written and the broker is acknowledged only by the client's answer", () => {
    for (const options of [{ durable: false }, { durable: true, cleanSession: true }]) {
      const f = sleeper(options);
      sleepFor(f, 60, 0);
      const acks: string[] = [];
      expect(f.run({ kind: "upMessage", delivery: fromBroker("ab", "m1", 1, acks) }, 10)).toEqual([]);
      expect(acks).toEqual([]);
      const [p] = sent(ping(f, 100));
      expect(acks).toEqual([]);
      expect(kinds(f.frame(accept(p as Message), 110))).toEqual(["release", "send:PingResp"]);
      expect(acks).toEqual(["m1"]);
    }
  });

  it("a copy stored after the client already has the message is deleted at once; the broker is not acknowledged again", () => {
    const f = sleeper({ durable: true });
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    const deletes: string[] = [];
    const d = fromBroker("ab", "late", 1, acks);
    expect(kinds(f.run({ kind: "upMessage", delivery: d }, 10))).toEqual(["store"]);
    const [p] = sent(ping(f, 20));
    f.frame(accept(p as Message), 30);
    expect(acks).toEqual(["late"]);
    expect(kinds(f.run(storedEvent(d, deletes), 40))).toEqual(["release"]);
    expect(deletes).toEqual(["late"]);
    expect(acks).toEqual(["late"]);
  });

  it("ignores and counts a stray PUBACK while asleep (a late answer), not a protocol violation", () => {
    const f = sleeper();
    const [p] = sent(f.run({ kind: "upMessage", delivery: fromBroker("ab", "m", 1) }, 0));
    sleepFor(f, 60, 10);
    expect(f.frame(accept(p as Message), 20)).toEqual([]);
    expect(f.frame({ type: MsgType.PubAck, topicId: 1, msgId: 999, returnCode: 0 }, 30)).toEqual([]);
    expect(f.s.state).toBe("asleep");
    expect(f.ctx.counters.unknownClientFrames).toBe(2);
    expect(f.ctx.counters.protocolViolations).toBe(0);
    // The message is still owed: sent once more, DUP set, when the client wakes.
    expect(sent(ping(f, 100))).toEqual([{ ...(p as Publish), dup: true }]);
  });

  it("asleep → awake on PINGREQ: REGISTER first, the QoS flows in arrival order, PINGRESP only after the last, then asleep again", () => {
    const f = sleeper();
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    f.run({ kind: "upMessage", delivery: fromBroker("t/one", "m0", 0) }, 10);
    f.run({ kind: "upMessage", delivery: fromBroker("t/one", "m1", 1, acks) }, 20);
    f.run({ kind: "upMessage", delivery: fromBroker("t/two", "m2", 2, acks) }, 30);

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
    expect(acks).toEqual([]);

    out = sent(f.frame({ type: MsgType.PubAck, topicId: m1.topicId, msgId: m1.msgId, returnCode: 0 }, 1020));
    expect(acks).toEqual(["m1"]);
    const reg2 = out[0] as Extract<Message, { type: MsgType.Register }>;
    expect(reg2).toMatchObject({ type: MsgType.Register, topicName: "t/two" });

    out = sent(f.frame({ type: MsgType.RegAck, topicId: reg2.topicId, msgId: reg2.msgId, returnCode: 0 }, 1030));
    const m2 = out[0] as Publish;
    expect(text(m2)).toBe("m2");
    expect(m2.qos).toBe(2);
    out = sent(f.frame({ type: MsgType.PubRec, msgId: m2.msgId }, 1040));
    expect(out).toEqual([{ type: MsgType.PubRel, msgId: m2.msgId }]);
    expect(acks).toEqual(["m1", "m2"]);
    expect(f.s.state).toBe("awake");

    out = sent(f.frame({ type: MsgType.PubComp, msgId: m2.msgId }, 1050));
    expect(out).toEqual([{ type: MsgType.PingResp }]);
    expect(f.s.state).toBe("asleep");
    expect(acks).toEqual(["m1", "m2"]);
    expect(f.transitions().slice(-2)).toEqual(["asleep→awake", "awake→asleep"]);

    // Delivered once: the next PINGREQ finds nothing queued.
    expect(sent(ping(f, 2000))).toEqual([{ type: MsgType.PingResp }]);
    expect(f.s.state).toBe("asleep");
  });

  it("while awake retransmits an unanswered PUBLISH with DUP after T_RETRY, and still answers PINGRESP last", () => {
    const f = sleeper();
    sleepFor(f, 60, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "short", 1) }, 10);
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
    const f = sleeper({ keepAlive: 2 });
    sleepFor(f, 30, 1000);
    expect(f.s.deadline).toBe(1000 + 30_000 + GRACE_MS);
    // Keep-alive 2 s × 1.5 long past: still asleep.
    expect(f.run({ kind: "tick" }, 20_000)).toEqual([]);
    expect(f.s.state).toBe("asleep");
    expect(f.run({ kind: "tick" }, 31_499)).toEqual([]);
    const effects = f.run({ kind: "tick" }, 31_500);
    expect(effects).toContainEqual({ kind: "upClose", graceful: false });
    expect(effects).toContainEqual({ kind: "end", keep: false });
    expect(f.s.state).toBe("lost");
    expect(f.ctx.counters.sleepExpired).toBe(1);
  });

  it("a PINGREQ restarts the sleep supervision", () => {
    const f = sleeper();
    sleepFor(f, 10, 0);
    ping(f, 9000);
    expect(f.s.state).toBe("asleep");
    expect(f.s.deadline).toBe(9000 + 10_000 + GRACE_MS);
  });

  it("asleep → disconnected on DISCONNECT without a duration: answered, upstream closed gracefully (no will)", () => {
    const f = sleeper();
    sleepFor(f, 60, 0);
    const effects = f.frame({ type: MsgType.Disconnect, duration: undefined }, 100);
    expect(kinds(effects)).toEqual(["send:Disconnect", "upClose", "end"]);
    expect(effects).toContainEqual({ kind: "upClose", graceful: true });
    expect(f.s.state).toBe("disconnected");
  });

  it("ignores and counts a PINGREQ carrying another client id", () => {
    const f = sleeper();
    sleepFor(f, 60, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "kept", 0) }, 10);
    expect(ping(f, 100, "someone-else")).toEqual([]);
    expect(f.s.state).toBe("asleep");
    expect(f.ctx.counters.spoofedWakeups).toBe(1);
    expect(f.s.queue.length).toBe(1);
  });

  it("a PINGREQ from another address is a spoofed wake-up unless the client may move; one that may moves there and wakes", () => {
    const f = sleeper();
    sleepFor(f, 60, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "q0", 0) }, 10);
    const wake = { type: MsgType.PingReq, clientId: "sleepy" } as const;
    expect(f.run({ kind: "wakeFrom", message: wake, route: { key: OTHER }, mayMove: false }, 100)).toEqual([]);
    expect(f.ctx.counters.spoofedWakeups).toBe(1);
    expect(f.s.key).toBe(HOME);
    expect(f.s.state).toBe("asleep");

    const moved = f.run({ kind: "wakeFrom", message: wake, route: { key: OTHER }, mayMove: true }, 200);
    expect(moved[0]).toEqual({ kind: "rebind", route: { key: OTHER }, from: HOME });
    expect(sent(moved).map((m) => (m.type === MsgType.PingResp ? "PINGRESP" : text(m)))).toEqual(["q0", "PINGRESP"]);
    expect(f.s.key).toBe(OTHER);
    expect(f.s.state).toBe("asleep");
    expect(f.ctx.counters.spoofedWakeups).toBe(1);
  });

  it("awake → asleep on a new DISCONNECT with a duration: nothing is resent while asleep, the unanswered one goes first at the next wake", () => {
    const f = sleeper();
    sleepFor(f, 60, 0);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "q1", 1) }, 10);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "q0", 0) }, 20);
    const first = sent(ping(f, 100))[0] as Publish;
    expect(text(first)).toBe("q1");
    expect(kinds(sleepFor(f, 5, 200))).toEqual(["send:Disconnect", "persist"]);
    expect(f.s.state).toBe("asleep");
    expect(queued(f)).toEqual(["q0"]);
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

  it("overflow: the oldest QoS 0 goes first; a QoS 1 that cannot be held stays unacknowledged and is fetched again once the queue has drained", () => {
    const f = sleeper({ limits: { maxMessages: 2, maxBytes: 10_000 } });
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "old0", 0) }, 1);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "a1", 1, acks) }, 2);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "b1", 1, acks) }, 3);
    expect(f.ctx.counters.sleepDropped).toBe(1);
    expect(queued(f)).toEqual(["a1", "b1"]);
    expect(f.run({ kind: "upMessage", delivery: fromBroker("ab", "c1", 1, acks) }, 4)).toEqual([]);
    expect(acks).toEqual([]);
    expect(f.ctx.counters.deliveriesDeferred).toBe(1);
    expect(f.ctx.counters.sleepRefused).toBe(0);
    expect(f.s.refetch).toBe(true);
    expect(queued(f)).toEqual(["a1", "b1"]);

    const [a1] = sent(ping(f, 100));
    expect(text(a1 as Message)).toBe("a1");
    const [b1] = sent(f.frame(accept(a1 as Message), 110));
    expect(text(b1 as Message)).toBe("b1");
    // Drained: PINGRESP, asleep again, and the upstream connection is remade so the broker sends c1 again.
    const drained = f.frame(accept(b1 as Message), 120);
    expect(kinds(drained)).toEqual(["release", "send:PingResp", "upReplace"]);
    expect(acks).toEqual(["a1", "b1"]);
    expect(f.s.state).toBe("asleep");
    expect(f.s.replacing).toBe("refetch");
    expect(f.ctx.counters.refetches).toBe(1);
    expect(f.run({ kind: "upConnack", ok: true, refused: false }, 130)).toEqual([]);
    expect(f.s.replacing).toBeUndefined();
    expect(f.run({ kind: "upMessage", delivery: fromBroker("ab", "c1", 1, acks) }, 140)).toEqual([]);
    expect(queued(f)).toEqual(["c1"]);
    const [c1] = sent(ping(f, 200));
    f.frame(accept(c1 as Message), 210);
    expect(acks).toEqual(["a1", "b1", "c1"]);
  });

  it("asleep or awake → active on a CONNECT with CleanSession 0 (same address or a takeover): the stored messages come after its CONNACK, in order, before newer ones", () => {
    for (const wakeFirst of [false, true]) {
      const f = sleeper({ durable: true });
      sleepFor(f, 60, 0);
      const acks: string[] = [];
      const deletes: string[] = [];
      storeWhileAsleep(f, fromBroker("ab", "h1", 1, acks), 10, deletes);
      f.run({ kind: "upMessage", delivery: fromBroker("ab", "h0", 0) }, 20);
      storeWhileAsleep(f, fromBroker("ab", "h2", 1, acks), 30, deletes);
      expect(acks).toEqual(["h1", "h2"]);
      if (wakeFirst) {
        expect(sent(ping(f, 100)).map(text)).toEqual(["h1"]);
        expect(f.s.state).toBe("awake");
      }
      const key = wakeFirst ? OTHER : HOME;
      const out = reconnect(f, 200, false, key);
      expect(f.ctx.counters.takeovers).toBe(wakeFirst ? 1 : 0);
      expect(f.s.key).toBe(key);
      if (wakeFirst) expect(out).toContainEqual({ kind: "rebind", route: { key: OTHER }, from: HOME });
      // The old connection's will is not published.
      expect(out).not.toContainEqual({ kind: "upClose", graceful: false });
      expect(deletes).toEqual([]);

      // The upstream connection is kept (same will) or made again: either way CONNACK comes first.
      const remade = out.some((e) => e.kind === "upConnect" || e.kind === "upReplace");
      const first = [
        ...sent(out),
        ...(remade ? sent(f.run({ kind: "upConnack", ok: true, refused: false }, 210)) : []),
      ];
      expect(first[0]).toEqual({ type: MsgType.ConnAck, returnCode: 0 });
      expect(first.slice(1).map(text)).toEqual(["h1"]);
      expect(f.s.state).toBe("active");
      expect(sent(f.run({ kind: "upMessage", delivery: fromBroker("ab", "newer", 1, acks) }, 215))).toEqual([]);
      expect(drainToClient(f, first.slice(1), 220)).toEqual(["h1", "h0", "h2", "newer"]);
      // Each stored copy is deleted once the client has the message; the broker was acknowledged once for each.
      expect(deletes).toEqual(["h1", "h2"]);
      expect(acks).toEqual(["h1", "h2", "newer"]);
      expect(f.s.queue.length).toBe(0);
      expect(f.s.inFlight).toBeUndefined();
    }
  });

  it("lost while asleep with CleanSession 0: the session ends keeping its stored messages, which come first after the next CONNACK, before newer ones", () => {
    const f = sleeper({ durable: true });
    sleepFor(f, 1, 0);
    const acks: string[] = [];
    const deletes: string[] = [];
    storeWhileAsleep(f, fromBroker("s/kept", "k1", 1, acks), 10, deletes);
    f.run({ kind: "upMessage", delivery: fromBroker("s/kept", "k0", 0) }, 20);
    storeWhileAsleep(f, fromBroker("s/kept", "k2", 2, acks), 30, deletes);
    const ended = f.run({ kind: "tick" }, 1000 + GRACE_MS);
    expect(ended).toEqual([
      { kind: "upClose", graceful: false },
      { kind: "end", keep: true },
    ]);
    expect(f.s.state).toBe("lost");
    expect(queued(f)).toEqual(["k1", "k2"]);
    expect(f.ctx.counters.sleepDiscarded).toBe(1);
    expect(deletes).toEqual([]);

    // An ended session answers nothing but a CONNECT.
    expect(f.run({ kind: "tick" }, 4000)).toEqual([]);
    expect(ping(f, 4000)).toEqual([]);

    const out = reconnect(f, 5000, false, OTHER);
    expect(kinds(out)).toEqual(["rebind", "upConnect"]);
    const connack = sent(f.run({ kind: "upConnack", ok: true, refused: false }, 5010));
    expect(connack[0]).toEqual({ type: MsgType.ConnAck, returnCode: 0 });
    // REGISTER first: the client does not know the topic yet.
    expect(connack[1]?.type).toBe(MsgType.Register);
    expect(sent(f.run({ kind: "upMessage", delivery: fromBroker("s/kept", "newer", 1, acks) }, 5015))).toEqual([]);
    expect(drainToClient(f, connack.slice(1), 5020)).toEqual(["k1", "k2", "newer"]);
    // Each stored copy is deleted once the client has the message; the newer one is acknowledged to the broker.
    expect(deletes).toEqual(["k1", "k2"]);
    expect(acks).toEqual(["k1", "k2", "newer"]);
  });

  it("lost while asleep with CleanSession 0 and nothing stored: nothing is kept, what the broker sent is left to it", () => {
    const f = sleeper();
    sleepFor(f, 1, 0);
    const acks: string[] = [];
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "b1", 1, acks) }, 10);
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "b0", 0) }, 20);
    const ended = f.run({ kind: "tick" }, 1000 + GRACE_MS);
    expect(ended).toContainEqual({ kind: "end", keep: false });
    expect(f.s.queue.length).toBe(0);
    expect(acks).toEqual([]);
    expect(f.ctx.counters.sleepDiscarded).toBe(1);
  });

  it("lost while asleep with CleanSession 1: nothing is kept, the discard counted", () => {
    const f = sleeper({ cleanSession: true });
    sleepFor(f, 1, 0);
    const acks: string[] = [];
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "c1", 1, acks) }, 10);
    const ended = f.run({ kind: "tick" }, 1000 + GRACE_MS);
    expect(ended).toContainEqual({ kind: "end", keep: false });
    expect(f.s.queue.length).toBe(0);
    expect(f.ctx.counters.sleepDiscarded).toBe(1);
    expect(acks).toEqual([]);
  });

  it("a CONNECT with CleanSession 1 on a sleeping or ended CleanSession 0 session discards what it held, counted, and deletes the stored copies", () => {
    for (const endFirst of [false, true]) {
      const f = sleeper({ durable: true });
      sleepFor(f, 1, 0);
      const acks: string[] = [];
      const deletes: string[] = [];
      storeWhileAsleep(f, fromBroker("ab", "s1", 1, acks), 10, deletes);
      f.run({ kind: "upMessage", delivery: fromBroker("ab", "s0", 0) }, 20);
      storeWhileAsleep(f, fromBroker("ab", "s2", 2, acks), 30, deletes);
      let discardedBefore = 0;
      if (endFirst) {
        expect(f.run({ kind: "tick" }, 1000 + GRACE_MS)).toContainEqual({ kind: "end", keep: true });
        discardedBefore = 1;
      }
      expect(f.ctx.counters.sleepDiscarded).toBe(discardedBefore);
      const out = reconnect(f, 2000, true);
      expect(kinds(out)).toEqual(
        endFirst ? ["release", "release", "upConnect"] : ["upClose", "release", "release", "upConnect"],
      );
      expect(deletes).toEqual(["s1", "s2"]);
      expect(f.ctx.counters.sleepDiscarded).toBe(3);
      expect(f.s.queue.length).toBe(0);
      expect(f.s.cleanSession).toBe(true);
      expect(sent(f.run({ kind: "upConnack", ok: true, refused: false }, 2010))).toEqual([
        { type: MsgType.ConnAck, returnCode: 0 },
      ]);
      expect(acks).toEqual(["s1", "s2"]);
    }
  });

  it("overflow with CleanSession 1: a QoS 1 that cannot be held is acknowledged, dropped and counted (no persistent session keeps it)", () => {
    const f = sleeper({ limits: { maxMessages: 1, maxBytes: 10_000 }, cleanSession: true });
    sleepFor(f, 60, 0);
    const acks: string[] = [];
    f.run({ kind: "upMessage", delivery: fromBroker("ab", "a1", 1, acks) }, 1);
    const effects = f.run({ kind: "upMessage", delivery: fromBroker("ab", "b1", 1, acks) }, 2);
    expect(kinds(effects)).toEqual(["release"]);
    expect(acks).toEqual(["b1"]);
    expect(f.ctx.counters.sleepRefused).toBe(1);
    expect(f.ctx.counters.deliveriesDeferred).toBe(0);
    expect(f.s.refetch).toBe(false);
    expect(queued(f)).toEqual(["a1"]);
  });
});
