import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  SleepBuffer,
  limitsFor,
  messageBytes,
  type BufferedMessage,
  type BufferedQoS,
} from "../../../gateway/sleep/buffer";

function msg(topicName: string, qos: BufferedQoS, payloadBytes = 1): BufferedMessage {
  return { topicName, payload: new Uint8Array(payloadBytes), qos, retain: false };
}

const topics = (messages: BufferedMessage[]) => messages.map((m) => m.topicName);

describe("SleepBuffer", () => {
  it("keeps messages in arrival order and hands them out oldest first", () => {
    const buffer = new SleepBuffer({ maxMessages: 10, maxBytes: 1000 });
    for (const [i, qos] of ([0, 1, 2, 0, 1] as BufferedQoS[]).entries())
      expect(buffer.offer(msg(`t${i}`, qos)).kept).toBe(true);
    expect(buffer.length).toBe(5);
    expect(buffer.peek()?.topicName).toBe("t0");
    expect(buffer.shift()?.topicName).toBe("t0");
    expect(topics(buffer.drain())).toEqual(["t1", "t2", "t3", "t4"]);
    expect(buffer.length).toBe(0);
    expect(buffer.bytes).toBe(0);
    expect(buffer.shift()).toBeUndefined();
  });

  it("counts topic name (UTF-8) plus payload as the size of a message", () => {
    expect(messageBytes(msg("ab", 0, 5))).toBe(7);
    expect(messageBytes(msg("é", 0, 0))).toBe(2);
    const buffer = new SleepBuffer({ maxMessages: 10, maxBytes: 1000 });
    buffer.offer(msg("ab", 1, 5));
    buffer.offer(msg("é", 0, 3));
    expect(buffer.bytes).toBe(12);
    buffer.shift();
    expect(buffer.bytes).toBe(5);
  });

  it("at the message limit drops the oldest QoS 0 message first, even behind QoS 1/2 ones", () => {
    const buffer = new SleepBuffer({ maxMessages: 3, maxBytes: 1000 });
    buffer.offer(msg("a1", 1));
    buffer.offer(msg("b0", 0));
    buffer.offer(msg("c0", 0));
    const result = buffer.offer(msg("d2", 2));
    expect(result).toEqual({ kept: true, dropped: [expect.objectContaining({ topicName: "b0" })] });
    expect(topics(buffer.drain())).toEqual(["a1", "c0", "d2"]);
    expect(buffer.counters).toEqual({ dropped: 1, refused: 0 });
  });

  it("at the byte limit drops as many old QoS 0 messages as needed", () => {
    const buffer = new SleepBuffer({ maxMessages: 100, maxBytes: 40 });
    buffer.offer(msg("q0", 0, 8)); // 10 octets
    buffer.offer(msg("q1", 1, 8));
    buffer.offer(msg("r0", 0, 8));
    buffer.offer(msg("s0", 0, 8)); // full: 40 octets
    const result = buffer.offer(msg("big", 1, 17)); // 20 octets: two QoS 0 must go
    expect(result.kept).toBe(true);
    expect(topics(result.dropped)).toEqual(["q0", "r0"]);
    expect(topics(buffer.drain())).toEqual(["q1", "s0", "big"]);
    expect(buffer.counters.dropped).toBe(2);
  });

  it("refuses a QoS 1/2 message when only QoS 1/2 messages are held, and keeps what it held", () => {
    for (const limits of [
      { maxMessages: 2, maxBytes: 1000, reason: "messages" },
      { maxMessages: 100, maxBytes: 6, reason: "bytes" },
    ]) {
      const buffer = new SleepBuffer(limits);
      buffer.offer(msg("a1", 1));
      buffer.offer(msg("b2", 2));
      const result = buffer.offer(msg("c1", 1));
      expect(result).toEqual({ kept: false, reason: limits.reason, dropped: [] });
      expect(buffer.counters).toEqual({ dropped: 0, refused: 1 });
      expect(topics(buffer.drain())).toEqual(["a1", "b2"]);
    }
  });

  it("drops nothing when even dropping every QoS 0 message would not make room for a QoS 1/2 one", () => {
    const buffer = new SleepBuffer({ maxMessages: 100, maxBytes: 30 });
    buffer.offer(msg("a0", 0, 3)); // 5
    buffer.offer(msg("b1", 1, 18)); // 20
    const result = buffer.offer(msg("c1", 1, 18)); // needs 20, at most 10 free
    expect(result).toEqual({ kept: false, reason: "bytes", dropped: [] });
    expect(topics(buffer.drain())).toEqual(["a0", "b1"]);
    expect(buffer.counters).toEqual({ dropped: 0, refused: 1 });
  });

  it("drops a new QoS 0 message that does not fit when only QoS 1/2 messages are held", () => {
    const buffer = new SleepBuffer({ maxMessages: 1, maxBytes: 1000 });
    buffer.offer(msg("a1", 1));
    const late = msg("b0", 0);
    expect(buffer.offer(late)).toEqual({ kept: false, reason: "messages", dropped: [late] });
    expect(buffer.counters).toEqual({ dropped: 1, refused: 0 });
  });

  it("refuses a QoS 1 message larger than the byte limit and drops such a QoS 0 one", () => {
    const buffer = new SleepBuffer({ maxMessages: 10, maxBytes: 10 });
    buffer.offer(msg("a0", 0, 1));
    expect(buffer.offer(msg("huge", 1, 20)).kept).toBe(false);
    expect(buffer.offer(msg("huge", 0, 20)).kept).toBe(false);
    expect(buffer.counters).toEqual({ dropped: 1, refused: 1 });
    expect(topics(buffer.drain())).toEqual(["a0"]);
  });

  it("rejects limits below 1", () => {
    expect(() => new SleepBuffer({ maxMessages: 0, maxBytes: 10 })).toThrow(RangeError);
    expect(() => new SleepBuffer({ maxMessages: 1, maxBytes: Number.NaN })).toThrow(RangeError);
  });

  it("holds under random traffic: bounds kept, order kept, QoS 1/2 never lost, every loss counted", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("offer" as const),
        qos: fc.constantFrom<BufferedQoS>(0, 1, 2),
        size: fc.integer({ min: 0, max: 40 }),
      }),
      fc.record({ kind: fc.constant("shift" as const) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 120 }),
        fc.array(op, { maxLength: 80 }),
        (maxMessages, maxBytes, ops) => {
          const buffer = new SleepBuffer({ maxMessages, maxBytes });
          let serial = 0;
          const accepted: string[] = [];
          const lost = new Set<string>();
          const delivered: string[] = [];
          let refusedQoS12 = 0;
          for (const o of ops) {
            if (o.kind === "shift") {
              const m = buffer.shift();
              if (m !== undefined) delivered.push(m.topicName);
              continue;
            }
            const m = msg(`m${serial++}`, o.qos, o.size);
            const result = buffer.offer(m);
            for (const d of result.dropped) {
              expect(d.qos).toBe(0);
              lost.add(d.topicName);
            }
            if (result.kept) accepted.push(m.topicName);
            else if (m.qos !== 0) refusedQoS12++;
            expect(buffer.length).toBeLessThanOrEqual(maxMessages);
            expect(buffer.bytes).toBeLessThanOrEqual(maxBytes);
          }
          delivered.push(...topics(buffer.drain()));
          const expected = accepted.filter((t) => !lost.has(t));
          expect(delivered).toEqual(expected);
          expect(buffer.counters.refused).toBe(refusedQoS12);
          expect(buffer.counters.dropped).toBe(lost.size);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("limitsFor", () => {
  const config = {
    maxMessages: 50,
    maxBytes: 4096,
    clients: { sensor1: { maxMessages: 5 }, big: { maxMessages: 500, maxBytes: 65536 } },
  };

  it("uses the client's own limits where set and the global ones otherwise", () => {
    expect(limitsFor(config, "sensor1")).toEqual({ maxMessages: 5, maxBytes: 4096 });
    expect(limitsFor(config, "big")).toEqual({ maxMessages: 500, maxBytes: 65536 });
    expect(limitsFor(config, "other")).toEqual({ maxMessages: 50, maxBytes: 4096 });
    expect(limitsFor(config, "constructor")).toEqual({ maxMessages: 50, maxBytes: 4096 });
  });
});
