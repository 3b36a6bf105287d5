import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MsgType, ReturnCode } from "../../protocol/index";
import { ClientState } from "../../device-client/core/types";
import { Harness, bytes } from "./support/harness";

describe("device client core: bounds and hostile input", () => {
  it("never throws on random datagrams in any state, and stays usable", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { maxLength: 30 }),
        fc.boolean(),
        (datagrams, active) => {
          const h = new Harness();
          if (active) h.connect();
          else h.client.start(0);
          for (const d of datagrams) h.client.receive(d as unknown as number[], d.length, true);
          h.advance(1);
          expect([
            ClientState.Connecting,
            ClientState.Active,
            ClientState.Lost,
            ClientState.Asleep,
            ClientState.Disconnected,
          ]).toContain(h.client.state);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("replaces the least recently used registered topic when the table is full, never one an exchange needs", () => {
    const h = new Harness((o) => (o.maxTopics = 2));
    h.connect();
    h.client.publish("t/1", bytes("a"), 0, 1, 0, false);
    h.fromGateway({ type: MsgType.RegAck, topicId: 1, msgId: 1, returnCode: 0 });
    h.client.publish("t/2", bytes("b"), 0, 1, 0, false);
    h.fromGateway({ type: MsgType.RegAck, topicId: 2, msgId: 2, returnCode: 0 });
    h.client.publish("t/1", bytes("c"), 0, 1, 0, false);
    h.take();
    // t/2 is now the least recently used: a third name takes its entry.
    h.client.publish("t/3", bytes("d"), 0, 1, 0, false);
    expect(h.take()).toMatchObject([{ type: MsgType.Register, topicName: "t/3" }]);
    expect(h.client.topicId("t/2")).toBe(-1);
    expect(h.client.topicId("t/1")).toBeGreaterThanOrEqual(0);
    // t/1 awaiting a PUBACK and t/3 awaiting its REGACK: neither entry may go, a fourth name is refused.
    expect(h.client.publish("t/1", bytes("e"), 0, 1, 1, false)).toBeGreaterThan(0);
    expect(h.client.publish("t/4", bytes("f"), 0, 1, 1, false)).toBe(-1);
  });

  it("answers the gateway's REGISTER with 'congestion' when no entry can be freed", () => {
    const h = new Harness((o) => (o.maxTopics = 1));
    h.connect();
    h.client.publish("mine", bytes("a"), 0, 1, 1, false);
    h.take();
    h.fromGateway({ type: MsgType.Register, topicId: 9, msgId: 77, topicName: "theirs" });
    expect(h.take()).toEqual([{ type: MsgType.RegAck, topicId: 9, msgId: 77, returnCode: ReturnCode.Congestion }]);
  });

  it("stays silent to a new QoS 2 PUBLISH when the incoming QoS 2 table is full (the gateway retries)", () => {
    const h = new Harness((o) => (o.maxIncomingQos2 = 1));
    h.connect();
    const p = (msgId: number) =>
      h.fromGateway({
        type: MsgType.Publish,
        dup: false,
        qos: 2,
        retain: false,
        topicIdType: 1,
        topicId: 5,
        msgId,
        data: bytes("x"),
        dataOffset: 0,
        dataLength: 1,
      });
    p(1);
    p(2);
    expect(h.take()).toEqual([{ type: MsgType.PubRec, msgId: 1 }]);
    expect(h.client.dropped).toBe(1);
    h.fromGateway({ type: MsgType.PubRel, msgId: 1 });
    p(2);
    expect(h.take()).toEqual([
      { type: MsgType.PubComp, msgId: 1 },
      { type: MsgType.PubRec, msgId: 2 },
    ]);
  });

  it("refuses a message larger than its buffers", () => {
    const h = new Harness();
    h.connect();
    const big = new Array(200).fill(65);
    expect(h.client.publishId(1, 1, big, 0, 200, 1, false)).toBe(-1);
    expect(h.client.publishId(1, 1, big, 0, 100, 1, false)).toBeGreaterThan(0);
  });

  it("refuses a QoS that does not exist (3, -2) without sending or leaving an exchange open", () => {
    const h = new Harness(undefined, 2);
    h.connect();
    const before = h.sent.length;
    expect(h.client.publishId(1, 1, bytes("a"), 0, 1, 3 as 1, false)).toBe(-1);
    expect(h.client.publish("t/q", bytes("a"), 0, 1, 3 as 1, false)).toBe(-1);
    expect(h.client.publishId(1, 1, bytes("a"), 0, 1, -2 as 1, false)).toBe(-1);
    expect(h.sent.length).toBe(before);
    expect(h.client.publishId(1, 1, bytes("b"), 0, 1, 1, false)).toBeGreaterThan(0);
    expect(h.client.publishId(1, 1, bytes("c"), 0, 1, 1, false)).toBeGreaterThan(0);
  });
});
