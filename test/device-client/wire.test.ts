import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, encode, MsgType, TopicIdType, type Message } from "../../protocol/index";
import { SensorClient } from "../../device-client/core/sensor";
import { ClientState } from "../../device-client/core/types";
import { Harness } from "./support/harness";

/**
 * The client reads what a gateway sends in place (device-client/core/wire.ts and the receive() of
 * sensor.ts and client.ts) instead of through protocol/'s decoder. These properties hold the two to
 * the same wire format: what the full decoder rejects, the client drops without an answer; what a
 * gateway sends, encoded by the full encoder, the client reads field for field. (What the client
 * sends is decoded by the full decoder in every test: support/harness.ts throws on a malformed datagram.)
 */
function active(): Harness {
  const h = new Harness();
  h.connect();
  h.take();
  h.takeEvents();
  return h;
}

describe("device client wire format against the full codec", () => {
  it("drops and counts every datagram the full decoder rejects, and answers nothing", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 24 }), (d) => {
        fc.pre(decode(d as unknown as number[], 0, d.length).type === "error");
        const h = active();
        h.client.receive(d as unknown as number[], d.length, true);
        expect(h.client.dropped).toBe(1);
        expect(h.take()).toEqual([]);
        expect(h.takeEvents()).toEqual([]);
        expect(h.client.state).toBe(ClientState.Active);
      }),
      { numRuns: 2000 },
    );
  });

  it("reads every PUBLISH a gateway can send as the full decoder does, and acknowledges it (§6.7)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(TopicIdType.Predefined, TopicIdType.Short),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom(0, 1, 2),
        fc.boolean(),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        (topicIdType, topicId, msgId, qos, retain, data) => {
          const h = new Harness(undefined, 4, 400);
          h.connect();
          h.take();
          h.takeEvents();
          const publish: Message = {
            type: MsgType.Publish,
            dup: false,
            qos: qos as 0 | 1 | 2,
            retain,
            topicIdType,
            topicId,
            msgId: qos === 0 ? 0 : msgId,
            data: Array.from(data),
            dataOffset: 0,
            dataLength: data.length,
          };
          const buf = new Uint8Array(400);
          const n = encode(publish, buf as unknown as number[], 0);
          h.client.receive(buf as unknown as number[], n, true);
          const text = Buffer.from(data).toString();
          expect(h.takeEvents()).toEqual([`message |${topicIdType}|${topicId}|${text}|${qos}|${retain}`]);
          const answers = h.take();
          if (qos === 0) expect(answers).toEqual([]);
          if (qos === 1) {
            expect(answers).toEqual([{ type: MsgType.PubAck, topicId, msgId, returnCode: 0 }]);
          }
          if (qos === 2) expect(answers).toEqual([{ type: MsgType.PubRec, msgId }]);
          expect(h.client.dropped).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("answers every REGISTER a gateway can send with the REGACK of its topic id and MsgId (§6.10)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.string({ minLength: 1, maxLength: 60, unit: "binary" }),
        (topicId, msgId, topicName) => {
          const h = active();
          h.fromGateway({ type: MsgType.Register, topicId, msgId, topicName });
          expect(h.take()).toEqual([{ type: MsgType.RegAck, topicId, msgId, returnCode: 0 }]);
          expect(h.client.topicId(topicName)).toBe(topicId);
          expect(h.client.dropped).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  /**
   * Each message the sensor profile takes, in the state that takes it, one octet longer and one
   * octet shorter (its Length field set to match): the full decoder rejects both, and both profiles
   * drop them and count them, with nothing sent and no state change.
   */
  const taken: [Message, ClientState][] = [
    [{ type: MsgType.Advertise, gwId: 7, duration: 900 }, ClientState.Searching],
    [{ type: MsgType.ConnAck, returnCode: 0 }, ClientState.Connecting],
    [{ type: MsgType.WillTopicReq }, ClientState.Connecting],
    [{ type: MsgType.WillMsgReq }, ClientState.Connecting],
    [{ type: MsgType.RegAck, topicId: 1, msgId: 1, returnCode: 0 }, ClientState.Active],
    [{ type: MsgType.PubAck, topicId: 1, msgId: 1, returnCode: 0 }, ClientState.Active],
    [{ type: MsgType.PingResp }, ClientState.Active],
    [{ type: MsgType.Disconnect, duration: undefined }, ClientState.Active],
  ];
  for (const profile of ["full", "sensor"] as const) {
    it(`${profile} client: drops a message it takes when its body is one octet off the length §5.4 gives`, () => {
      for (const [message, state] of taken) {
        const valid = new Uint8Array(16);
        const n = encode(message, valid as unknown as number[], 0);
        const variants = [Array.from(valid.subarray(0, n)).concat([0]), Array.from(valid.subarray(0, n - 1))];
        for (const v of variants) {
          v[0] = v.length;
          expect(decode(v, 0, v.length).type, JSON.stringify(v)).toBe("error");
          const h = new Harness(
            (o) => (o.searchGateway = state === ClientState.Searching),
            4,
            128,
            profile === "sensor" ? SensorClient : undefined,
          );
          h.client.start(0);
          if (state === ClientState.Active) h.fromGateway({ type: MsgType.ConnAck, returnCode: 0 });
          // A REGISTER and a PUBLISH with MsgIds 1 and 2 open; a PINGREQ open for the PINGRESP.
          h.client.register("t");
          h.client.publishId(TopicIdType.Predefined, 1, [1], 0, 1, 1, false);
          h.advance(60_000);
          expect(h.client.state).toBe(state);
          h.take();
          h.takeEvents();
          h.client.receive(v, v.length, true);
          expect(h.client.dropped, JSON.stringify(v)).toBe(1);
          expect(h.take()).toEqual([]);
          expect(h.takeEvents()).toEqual([]);
          expect(h.client.state).toBe(state);
        }
      }
    });
  }
});
