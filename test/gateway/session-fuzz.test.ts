import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, MsgType, type Bytes, type Message } from "../../protocol";
import { step } from "../../gateway/session/machine";
import { newSession } from "../../gateway/session/session";
import { TopicTable } from "../../gateway/session/topics";
import { newCounters, type Effect, type SessionContext, type SessionEvent } from "../../gateway/session/types";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Frames a message type with an arbitrary body; only those that decode are fed to the session. */
const anyMessage = fc
  .tuple(
    fc.constantFrom(
      0x00,
      0x01,
      0x02,
      0x04,
      0x05,
      0x06,
      0x07,
      0x08,
      0x09,
      0x0a,
      0x0b,
      0x0c,
      0x0d,
      0x0e,
      0x0f,
      0x10,
      0x12,
      0x13,
      0x14,
      0x15,
      0x16,
      0x17,
      0x18,
      0x1a,
      0x1b,
      0x1c,
      0x1d,
    ),
    fc.uint8Array({ maxLength: 12 }),
  )
  .map(([type, body]) => {
    const frame = Uint8Array.from([body.length + 2, type, ...body]);
    const m = decode(frame as unknown as Bytes, 0, frame.length);
    return m.type === "error" ? undefined : m;
  })
  .filter((m): m is Message => m !== undefined);

const anyEvent: fc.Arbitrary<SessionEvent> = fc.oneof(
  { weight: 6, arbitrary: anyMessage.map((message) => ({ kind: "frame", message }) as SessionEvent) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("upConnack" as const), ok: fc.boolean(), refused: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("upPublished" as const),
      msgId: fc.integer({ min: 0, max: 8 }),
      ok: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("upSubAck" as const),
      msgId: fc.integer({ min: 0, max: 8 }),
      granted: fc.constantFrom(0, 1, 2, 128),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        topic: fc.constantFrom("ab", "a/b", "c/d/e", "x"),
        qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
      })
      .map(
        ({ topic, qos }) =>
          ({
            kind: "upMessage",
            delivery: {
              topic,
              payload: new Uint8Array(3),
              qos,
              retain: false,
              token: qos === 0 ? undefined : () => {},
              reregistered: false,
            },
          }) as SessionEvent,
      ),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "tick" } as SessionEvent) },
);

describe("session state machine under arbitrary input", () => {
  it("never throws, keeps every table within its bound, and ends with no deadline once ended", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyEvent, fc.integer({ min: 0, max: 5000 })), { maxLength: 60 }), (events) => {
        const ctx: SessionContext = {
          maxTopicsPerClient: 3,
          maxInflight: 2,
          maxMessageSize: 1000,
          tRetryMs: 1000,
          nRetry: 2,
          keepAliveGraceMs: 0,
          willHandshakeTimeoutMs: 3000,
          upstreamConnectTimeoutMs: 3000,
          counters: newCounters(),
          log: silent,
        };
        const s = newSession(
          "fuzz",
          new TopicTable(ctx.maxTopicsPerClient, new Map([["p/q", 1]]), new Map([[1, "p/q"]])),
          0,
        );
        // Start from a connected session half of the time so that the connected handlers are reached.
        const start: Effect[] = [];
        step(
          s,
          {
            kind: "frame",
            message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 2, clientId: "f" },
          },
          0,
          ctx,
          start,
        );
        step(s, { kind: "upConnack", ok: true, refused: false }, 0, ctx, start);
        let now = 0;
        for (const [event, dt] of events) {
          now += dt;
          const out: Effect[] = [];
          step(s, event, now, ctx, out);
          expect(s.topics.size).toBeLessThanOrEqual(ctx.maxTopicsPerClient);
          expect(s.outQueue.length).toBeLessThanOrEqual(ctx.maxInflight);
          expect(s.upstreamPending.size + s.qos2Received.size).toBeLessThanOrEqual(ctx.maxInflight);
          expect(s.pendingSubscribes.size).toBeLessThanOrEqual(ctx.maxInflight);
          if (s.state === "lost" || s.state === "disconnected") expect(s.deadline).toBe(Infinity);
          else if (s.state === "active") expect(s.deadline).toBeLessThan(Infinity);
        }
      }),
      { numRuns: 400 },
    );
  });
});
