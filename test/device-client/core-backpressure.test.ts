import { describe, expect, it } from "vitest";
import { MsgType, TopicIdType, shortTopicId, type Message } from "../../protocol/index";
import { MqttSnClient } from "../../device-client/core/client";
import { defaultOptions } from "../../device-client/core/options";
import { ClientState, PublishResult } from "../../device-client/core/types";
import { Harness, bytes } from "./support/harness";

const T_RETRY = 10_000;
const BUSY = -2;

function types(ms: Message[]): number[] {
  return ms.map((m) => m.type);
}

function incoming(qos: 1 | 2, topicId: number, msgId: number): Message {
  return {
    type: MsgType.Publish,
    dup: false,
    qos,
    retain: false,
    topicIdType: TopicIdType.Predefined,
    topicId,
    msgId,
    data: bytes("in"),
    dataOffset: 0,
    dataLength: 2,
  };
}

describe("device client core: backpressure from a busy transport", () => {
  it("Busy is -2, apart from -1 (refused) and every MsgId", () => {
    expect(PublishResult.Busy).toBe(BUSY);
    expect(PublishResult.Refused).toBe(-1);
  });

  it("refuses every new PUBLISH with -2 while busy, sending and changing nothing; ready() once it is free", () => {
    const h = new Harness();
    h.connect();
    expect(h.client.publish("a/b", bytes("0"), 0, 1, 1, false)).toBe(2);
    h.fromGateway({ type: MsgType.RegAck, topicId: 5, msgId: 1, returnCode: 0 });
    h.fromGateway({ type: MsgType.PubAck, topicId: 5, msgId: 2, returnCode: 0 });
    h.take();
    h.takeEvents();

    h.busy = true;
    expect(h.client.publish("a/b", bytes("1"), 0, 1, 0, false)).toBe(BUSY);
    expect(h.client.publish("a/b", bytes("2"), 0, 1, 1, false)).toBe(BUSY);
    // A name without an id: not even its REGISTER goes out, and the topic table is untouched.
    expect(h.client.publish("new/name", bytes("3"), 0, 1, 1, false)).toBe(BUSY);
    expect(h.client.publishId(TopicIdType.Predefined, 9, bytes("4"), 0, 1, 2, false)).toBe(BUSY);
    expect(h.client.publishId(TopicIdType.Short, shortTopicId("ab"), bytes("5"), 0, 1, -1, false)).toBe(BUSY);
    expect(h.take()).toEqual([]);
    expect(h.client.topicId("new/name")).toBe(-1);

    // Still busy: no ready() however often tick() runs.
    h.advance(100);
    h.advance(100);
    expect(h.takeEvents()).toEqual([]);

    h.busy = false;
    h.advance(100);
    expect(h.takeEvents()).toEqual(["ready"]);
    h.advance(100);
    expect(h.takeEvents()).toEqual([]);

    // Nothing was used up by the refusals: no MsgId, no in-flight slot (4 of them are free).
    expect(h.client.publishId(TopicIdType.Predefined, 9, bytes("6"), 0, 1, 1, false)).toBe(3);
    expect(h.client.publish("a/b", bytes("7"), 0, 1, 0, false)).toBe(0);
    expect(h.client.publish("new/name", bytes("8"), 0, 1, 1, false)).toBe(5);
    expect(h.take()).toMatchObject([
      { type: MsgType.Publish, qos: 1, topicId: 9, msgId: 3 },
      { type: MsgType.Publish, qos: 0, topicId: 5, msgId: 0 },
      { type: MsgType.Register, topicName: "new/name", msgId: 4 },
    ]);
  });

  it("keeps -1 where waiting would not help: not Active, too large, QoS -1 on a topic name", () => {
    const h = new Harness();
    h.busy = true;
    expect(h.client.publish("a/b", bytes("x"), 0, 1, 0, false)).toBe(-1);
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("x"), 0, 1, 1, false)).toBe(-1);
    h.connect();
    const big = new Array(200).fill(65);
    expect(h.client.publishId(TopicIdType.Predefined, 1, big, 0, 200, 0, false)).toBe(-1);
    expect(h.client.publishId(TopicIdType.Normal, 1, bytes("x"), 0, 1, -1, false)).toBe(-1);
    h.busy = false;
    h.advance(100);
    // No Busy result was given, so there is nothing to be ready for.
    expect(h.takeEvents()).toEqual([]);
  });

  it("hands over everything else while busy: retransmissions, the QoS 2 flow, acknowledgements, requests, keep-alive", () => {
    const h = new Harness((o) => (o.keepAlive = 60));
    h.connect();
    const q1 = h.client.publishId(TopicIdType.Predefined, 1, bytes("a"), 0, 1, 1, false);
    const q2 = h.client.publishId(TopicIdType.Predefined, 2, bytes("b"), 0, 1, 2, false);
    h.take();
    h.busy = true;

    // §6.13: retransmission with DUP.
    h.advance(T_RETRY);
    expect(h.take()).toMatchObject([
      { type: MsgType.Publish, msgId: q1, dup: true },
      { type: MsgType.Publish, msgId: q2, dup: true },
    ]);
    // §6.7: PUBREC → PUBREL; an incoming QoS 1 and QoS 2 PUBLISH are acknowledged; REGISTER → REGACK.
    h.fromGateway({ type: MsgType.PubRec, msgId: q2 });
    h.fromGateway(incoming(1, 7, 300));
    h.fromGateway(incoming(2, 7, 301));
    h.fromGateway({ type: MsgType.PubRel, msgId: 301 });
    h.fromGateway({ type: MsgType.Register, topicId: 40, msgId: 302, topicName: "from/gateway" });
    expect(h.take()).toEqual([
      { type: MsgType.PubRel, msgId: q2 },
      { type: MsgType.PubAck, topicId: 7, msgId: 300, returnCode: 0 },
      { type: MsgType.PubRec, msgId: 301 },
      { type: MsgType.PubComp, msgId: 301 },
      { type: MsgType.RegAck, topicId: 40, msgId: 302, returnCode: 0 },
    ]);
    // Requests that take an in-flight slot are bounded by the slots, not refused.
    const sub = h.client.subscribe("s/#", 1);
    const reg = h.client.register("r");
    expect(types(h.take())).toEqual([MsgType.Subscribe, MsgType.Register]);
    h.fromGateway({ type: MsgType.PubAck, topicId: 1, msgId: q1, returnCode: 0 });
    h.fromGateway({ type: MsgType.PubComp, msgId: q2 });
    h.fromGateway({ type: MsgType.SubAck, qos: 1, topicId: 0, msgId: sub, returnCode: 0 });
    h.fromGateway({ type: MsgType.RegAck, topicId: 41, msgId: reg, returnCode: 0 });
    expect(h.takeEvents()).toEqual([
      "message |1|7|in|1|false",
      "message |1|7|in|2|false",
      `done ${MsgType.Publish} ${q1} 0 1`,
      `done ${MsgType.Publish} ${q2} 0 -1`,
      `done ${MsgType.Subscribe} ${sub} 0 0`,
      `done ${MsgType.Register} ${reg} 0 41`,
    ]);
    // §6.15: keep-alive after a Duration of silence.
    h.advance(60_000);
    expect(h.take()).toEqual([{ type: MsgType.PingReq, clientId: undefined }]);
    expect(h.client.state).toBe(ClientState.Active);
  });

  it("refuses QoS -1 in any state and calls ready() whatever the state", () => {
    const h = new Harness();
    h.busy = true;
    const ab = shortTopicId("ab");
    expect(h.client.publishId(TopicIdType.Short, ab, bytes("x"), 0, 1, -1, false)).toBe(BUSY);
    expect(h.take()).toEqual([]);
    h.busy = false;
    h.advance(1);
    expect(h.takeEvents()).toEqual(["ready"]);
    expect(h.client.state).toBe(ClientState.Disconnected);
    expect(h.client.publishId(TopicIdType.Short, ab, bytes("x"), 0, 1, -1, false)).toBe(0);
    expect(h.take()).toMatchObject([{ type: MsgType.Publish, qos: -1, topicId: ab }]);
  });

  it("works with a transport without busy() (never busy) and a handler without ready()", () => {
    let sent = 0;
    let busy: boolean | undefined = undefined;
    const buffers = {
      tx: new Uint8Array(64) as unknown as number[],
      inflight: [new Uint8Array(64), new Uint8Array(64)] as unknown as number[][],
      size: 64,
    };
    const handler = { stateChanged: () => {}, message: () => {}, done: () => {} };
    const plain = new MqttSnClient(
      { send: () => sent++, broadcast: () => {}, selectGateway: () => {} },
      handler,
      buffers,
      defaultOptions("plain", () => 0.5),
    );
    for (let i = 0; i < 100; i++) {
      expect(plain.publishId(TopicIdType.Short, shortTopicId("ab"), bytes("x"), 0, 1, -1, false)).toBe(0);
    }
    expect(sent).toBe(100);

    const quiet = new MqttSnClient(
      { send: () => {}, broadcast: () => {}, selectGateway: () => {}, busy: () => busy === true },
      handler,
      buffers,
      defaultOptions("quiet", () => 0.5),
    );
    busy = true;
    expect(quiet.publishId(TopicIdType.Short, shortTopicId("ab"), bytes("x"), 0, 1, -1, false)).toBe(BUSY);
    busy = false;
    expect(() => quiet.tick(1)).not.toThrow();
    expect(quiet.publishId(TopicIdType.Short, shortTopicId("ab"), bytes("x"), 0, 1, -1, false)).toBe(0);
  });
});
