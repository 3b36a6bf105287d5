import fc from "fast-check";
import { describe, it } from "vitest";
import { MsgType, type Message } from "../../protocol";
import { step } from "../../gateway/session/machine";
import { newSession } from "../../gateway/session/session";
import { TopicTable } from "../../gateway/session/topics";
import type { SleepBufferLimits } from "../../gateway/sleep/buffer";
import {
  newCounters,
  type Delivery,
  type Effect,
  type Session,
  type SessionContext,
  type SessionEvent,
} from "../../gateway/session/types";
import { CustodyModel } from "./support/custody-model";
import {
  acknowledged,
  acts,
  anyMessage,
  ANYTHING,
  arbitraryEvent,
  CLIENT,
  connectEvent,
  modelledEvent,
  MOSTLY_WELL_BEHAVED,
} from "./support/session-events";
import { checkSession } from "./support/session-invariants";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Milliseconds between events: mostly short, now and then long enough for a retry, a keep-alive or a sleep to run out. */
const pause = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5000 }) },
);

const settings = fc.record({
  durable: fc.boolean(),
  cleanSession: fc.boolean(),
  limits: fc.record({ maxMessages: fc.integer({ min: 1, max: 4 }), maxBytes: fc.integer({ min: 4, max: 40 }) }),
});

function context(durable: boolean, limits: SleepBufferLimits): SessionContext {
  return {
    maxTopicsPerClient: 3,
    maxInflight: 2,
    maxMessageSize: 1000,
    tRetryMs: 1000,
    nRetry: 2,
    keepAliveGraceMs: 0,
    willHandshakeTimeoutMs: 3000,
    upstreamConnectTimeoutMs: 3000,
    durable,
    sleepGraceMs: 500,
    queueLimitsFor: () => limits,
    counters: newCounters(),
    log: silent,
  };
}

function session(ctx: SessionContext, limits: SleepBufferLimits): Session {
  const topics = new TopicTable(ctx.maxTopicsPerClient, new Map([["p/q", 1]]), new Map([[1, "p/q"]]));
  return newSession("a", topics, 0, limits);
}

describe("session state machine under arbitrary input", () => {
  it("never throws, keeps every table and the queue within its bound, one message in flight, and a deadline whenever something is due", () => {
    const frames = fc.oneof(
      anyMessage,
      fc.constant<Message>({ type: MsgType.Connect, will: false, cleanSession: false, duration: 2, clientId: CLIENT }),
    );
    fc.assert(
      fc.property(
        settings,
        fc.boolean(),
        fc.array(fc.tuple(acts(frames, ANYTHING), fc.integer({ min: 0, max: 5000 })), { maxLength: 60, size: "max" }),
        ({ durable, cleanSession, limits }, startConnected, events) => {
          const ctx = context(durable, limits);
          const s = session(ctx, limits);
          const storing: Delivery[] = [];
          const run = (event: SessionEvent, now: number): Effect[] => {
            const out: Effect[] = [];
            step(s, event, now, ctx, out);
            for (const e of out) if (e.kind === "store") storing.push(e.delivery);
            return out;
          };
          if (startConnected) {
            run(connectEvent(s, { kind: "connect", cleanSession, will: false, elsewhere: false, duration: 2 }), 0);
            run({ kind: "upConnack", ok: true, refused: false }, 0);
          }
          let now = 0;
          for (const [act, dt] of events) {
            now += dt;
            const event = arbitraryEvent(s, act, storing);
            if (event === undefined) continue;
            const lateTick = event.kind === "tick" && now >= s.deadline;
            checkSession(s, ctx, limits, run(event, now), now, lateTick);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("with a modelled broker connection and store, every message acknowledged upstream stays in custody until the client has it, or is given up and counted", () => {
    fc.assert(
      fc.property(
        settings,
        fc.array(fc.tuple(acts(anyMessage, MOSTLY_WELL_BEHAVED), pause), {
          maxLength: 120,
          size: "max",
        }),
        ({ durable, cleanSession, limits }, events) => {
          const ctx = context(durable, limits);
          const s = session(ctx, limits);
          const model = new CustodyModel(ctx);
          const run = (event: SessionEvent, now: number): Effect[] => {
            const before = { ...ctx.counters };
            const answered = acknowledged(s, event);
            const out: Effect[] = [];
            step(s, event, now, ctx, out);
            model.execute(s, out);
            model.check(s, answered, before);
            return out;
          };
          run(connectEvent(s, { kind: "connect", cleanSession, will: false, elsewhere: false, duration: 2 }), 0);
          const accepted = modelledEvent(s, { kind: "upConnack", ok: true, refused: false }, model);
          if (accepted !== undefined) run(accepted, 0);
          let now = 0;
          for (const [act, dt] of events) {
            now += dt;
            const event = modelledEvent(s, act, model);
            if (event === undefined) continue;
            const lateTick = event.kind === "tick" && now >= s.deadline;
            checkSession(s, ctx, limits, run(event, now), now, lateTick);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
