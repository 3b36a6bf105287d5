import { describe, expect, it } from "vitest";
import { MsgType, ReturnCode, TopicIdType, shortTopicId, type Message } from "../../protocol/index";
import { ClientState } from "../../device-client/core/types";
import { Harness, bytes } from "./support/harness";

const T_RETRY = 10_000;

function types(ms: Message[]): number[] {
  return ms.map((m) => m.type);
}

describe("device client core: connect and will", () => {
  it("runs the will handshake after CONNECT and becomes Active on CONNACK (§6.3)", () => {
    const h = new Harness((o) => {
      o.willTopic = "dev/status";
      o.willQos = 1;
      o.willRetain = true;
      o.willMessage = bytes("gone");
      o.willMessageLength = 4;
    });
    h.client.start(0);
    expect(h.selected).toEqual([-1]);
    expect(h.take()).toEqual([
      { type: MsgType.Connect, will: true, cleanSession: true, duration: 60, clientId: "dev-1" },
    ]);
    h.fromGateway({ type: MsgType.WillTopicReq });
    expect(h.take()).toEqual([{ type: MsgType.WillTopic, qos: 1, retain: true, willTopic: "dev/status" }]);
    h.fromGateway({ type: MsgType.WillMsgReq });
    const [willMsg] = h.take();
    expect(willMsg?.type).toBe(MsgType.WillMsg);
    if (willMsg?.type === MsgType.WillMsg) {
      expect(
        Buffer.from(
          willMsg.willMsg.slice(willMsg.willMsgOffset, willMsg.willMsgOffset + willMsg.willMsgLength),
        ).toString(),
      ).toBe("gone");
    }
    h.fromGateway({ type: MsgType.ConnAck, returnCode: ReturnCode.Accepted });
    expect(h.client.state).toBe(ClientState.Active);
    expect(h.takeEvents()).toEqual([`state ${ClientState.Connecting}`, `state ${ClientState.Active}`]);
  });

  it("sends WILLTOPICUPD and WILLMSGUPD and reports their answers", () => {
    const h = new Harness();
    h.connect();
    expect(h.client.updateWillTopic("dev/will", 0, false)).toBe(0);
    expect(h.client.updateWillMessage(bytes("bye"), 0, 3)).toBe(0);
    expect(types(h.take())).toEqual([MsgType.WillTopicUpd, MsgType.WillMsgUpd]);
    h.fromGateway({ type: MsgType.WillTopicResp, returnCode: 0 });
    h.fromGateway({ type: MsgType.WillMsgResp, returnCode: 0 });
    expect(h.takeEvents()).toEqual([`done ${MsgType.WillTopicUpd} 0 0 0`, `done ${MsgType.WillMsgUpd} 0 0 0`]);
  });

  it("retries CONNECT after T_RETRY, then loses the gateway and starts again after reconnectDelay", () => {
    const h = new Harness((o) => (o.reconnectDelay = 30_000));
    h.client.start(0);
    h.take();
    for (let i = 0; i < 3; i++) {
      h.advance(T_RETRY);
      expect(types(h.take())).toEqual([MsgType.Connect]);
    }
    h.advance(T_RETRY);
    expect(h.take()).toEqual([]);
    expect(h.client.state).toBe(ClientState.Lost);
    h.advance(29_999);
    expect(h.take()).toEqual([]);
    h.advance(1);
    expect(types(h.take())).toEqual([MsgType.Connect]);
  });

  it("treats a refused CONNACK as a lost gateway (retry later)", () => {
    const h = new Harness();
    h.client.start(0);
    h.fromGateway({ type: MsgType.ConnAck, returnCode: ReturnCode.Congestion });
    expect(h.client.state).toBe(ClientState.Lost);
  });
});

describe("device client core: publish", () => {
  it("registers a topic name once, then publishes with the id (§6.10)", () => {
    const h = new Harness();
    h.connect();
    expect(h.client.publish("a/b", bytes("1"), 0, 1, 1, false)).toBe(2);
    const [register] = h.take();
    expect(register).toEqual({ type: MsgType.Register, topicId: 0, msgId: 1, topicName: "a/b" });
    h.fromGateway({ type: MsgType.RegAck, topicId: 77, msgId: 1, returnCode: 0 });
    const [publish] = h.take();
    expect(publish).toMatchObject({
      type: MsgType.Publish,
      qos: 1,
      topicId: 77,
      msgId: 2,
      dup: false,
      topicIdType: TopicIdType.Normal,
    });
    h.fromGateway({ type: MsgType.PubAck, topicId: 77, msgId: 2, returnCode: 0 });
    expect(h.takeEvents()).toEqual([`done ${MsgType.Publish} 2 0 77`]);
    expect(h.client.publish("a/b", bytes("2"), 0, 1, 0, true)).toBe(0);
    expect(h.take()).toMatchObject([{ type: MsgType.Publish, qos: 0, topicId: 77, msgId: 0, retain: true }]);
  });

  it("fails the publishes behind a refused REGISTER", () => {
    const h = new Harness();
    h.connect();
    const id = h.client.publish("x", bytes("1"), 0, 1, 1, false);
    h.fromGateway({ type: MsgType.RegAck, topicId: 0, msgId: 1, returnCode: ReturnCode.NotSupported });
    expect(h.takeEvents()).toEqual([`done ${MsgType.Publish} ${id} 3 0`]);
    expect(types(h.take())).toEqual([MsgType.Register]);
  });

  it("runs the QoS 2 flow PUBLISH → PUBREC → PUBREL → PUBCOMP", () => {
    const h = new Harness();
    h.connect();
    const id = h.client.publishId(TopicIdType.Predefined, 5, bytes("q2"), 0, 2, 2, false);
    expect(h.take()).toMatchObject([
      { type: MsgType.Publish, qos: 2, topicIdType: TopicIdType.Predefined, topicId: 5, msgId: id },
    ]);
    h.fromGateway({ type: MsgType.PubRec, msgId: id });
    expect(h.take()).toEqual([{ type: MsgType.PubRel, msgId: id }]);
    h.advance(T_RETRY);
    expect(h.take()).toEqual([{ type: MsgType.PubRel, msgId: id }]);
    h.fromGateway({ type: MsgType.PubComp, msgId: id });
    expect(h.takeEvents()).toEqual([`done ${MsgType.Publish} ${id} 0 -1`]);
  });

  it("sends QoS -1 on short and predefined topics without a connection (§6.8), never on a name", () => {
    const h = new Harness();
    expect(h.client.publishId(TopicIdType.Short, shortTopicId("ab"), bytes("x"), 0, 1, -1, false)).toBe(0);
    expect(h.take()).toMatchObject([
      { type: MsgType.Publish, qos: -1, topicIdType: TopicIdType.Short, topicId: shortTopicId("ab") },
    ]);
    expect(h.client.publishId(TopicIdType.Normal, 3, bytes("x"), 0, 1, -1, false)).toBe(-1);
    expect(h.client.publishId(TopicIdType.Predefined, 3, bytes("x"), 0, 1, 0, false)).toBe(-1);
  });

  it("retransmits with DUP after T_RETRY, N_RETRY times, then loses the gateway and fails the publish", () => {
    const h = new Harness();
    h.connect();
    const id = h.client.publishId(TopicIdType.Predefined, 1, bytes("r"), 0, 1, 1, false);
    expect(h.take()).toMatchObject([{ dup: false }]);
    h.advance(T_RETRY - 1);
    expect(h.take()).toEqual([]);
    for (let i = 0; i < 3; i++) {
      h.advance(i === 0 ? 1 : T_RETRY);
      expect(h.take()).toMatchObject([{ type: MsgType.Publish, dup: true, msgId: id }]);
    }
    h.advance(T_RETRY);
    expect(h.client.state).toBe(ClientState.Lost);
    expect(h.takeEvents()).toEqual([`done ${MsgType.Publish} ${id} -1 0`, `state ${ClientState.Lost}`]);
  });

  it("refuses (-1) when the in-flight table is full, and accepts again once an answer frees a slot", () => {
    const h = new Harness(undefined, 2);
    h.connect();
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("a"), 0, 1, 1, false)).toBe(1);
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("b"), 0, 1, 1, false)).toBe(2);
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("c"), 0, 1, 1, false)).toBe(-1);
    expect(h.client.publish("new/topic", bytes("d"), 0, 1, 0, false)).toBe(-1);
    h.fromGateway({ type: MsgType.PubAck, topicId: 1, msgId: 1, returnCode: 0 });
    expect(h.client.publishId(TopicIdType.Predefined, 1, bytes("c"), 0, 1, 1, false)).toBe(3);
  });

  it("forgets a topic id the gateway answers with 'invalid topic id' and registers again", () => {
    const h = new Harness();
    h.connect();
    h.client.publish("t", bytes("1"), 0, 1, 1, false);
    h.fromGateway({ type: MsgType.RegAck, topicId: 9, msgId: 1, returnCode: 0 });
    h.fromGateway({ type: MsgType.PubAck, topicId: 9, msgId: 2, returnCode: ReturnCode.InvalidTopicId });
    h.take();
    h.client.publish("t", bytes("2"), 0, 1, 1, false);
    expect(types(h.take())).toEqual([MsgType.Register]);
  });
});

describe("device client core: subscribe and incoming PUBLISH", () => {
  it("subscribes by name, keeps the returned id, and acknowledges before the handler runs", () => {
    const h = new Harness();
    h.connect();
    const sub = h.client.subscribe("s/t", 1);
    expect(h.take()).toMatchObject([{ type: MsgType.Subscribe, topicName: "s/t", qos: 1, msgId: sub }]);
    h.fromGateway({ type: MsgType.SubAck, qos: 1, topicId: 12, msgId: sub, returnCode: 0 });
    h.takeEvents();
    const order: string[] = [];
    const originalPush = h.sent.push.bind(h.sent);
    h.sent.push = (...items) => {
      order.push("sent");
      return originalPush(...items);
    };
    const events = h.events.push.bind(h.events);
    h.events.push = (...items) => {
      order.push("handler");
      return events(...items);
    };
    h.fromGateway({
      type: MsgType.Publish,
      dup: false,
      qos: 1,
      retain: false,
      topicIdType: 0,
      topicId: 12,
      msgId: 40,
      data: bytes("hi"),
      dataOffset: 0,
      dataLength: 2,
    });
    expect(order).toEqual(["sent", "handler"]);
    expect(h.take()).toEqual([{ type: MsgType.PubAck, topicId: 12, msgId: 40, returnCode: 0 }]);
    expect(h.takeEvents()).toEqual(["message s/t|0|12|hi|1|false"]);
    const un = h.client.unsubscribe("s/t");
    h.fromGateway({ type: MsgType.UnsubAck, msgId: un });
    expect(h.takeEvents()).toEqual([`done ${MsgType.Unsubscribe} ${un} 0 0`]);
  });

  it("answers the gateway's REGISTER and names the topic of the PUBLISH that follows (wildcards)", () => {
    const h = new Harness();
    h.connect();
    h.client.subscribe("w/#", 2);
    h.fromGateway({ type: MsgType.SubAck, qos: 2, topicId: 0, msgId: 1, returnCode: 0 });
    h.take();
    h.takeEvents();
    h.fromGateway({ type: MsgType.Register, topicId: 33, msgId: 500, topicName: "w/x" });
    expect(h.take()).toEqual([{ type: MsgType.RegAck, topicId: 33, msgId: 500, returnCode: 0 }]);
    const publish: Message = {
      type: MsgType.Publish,
      dup: false,
      qos: 2,
      retain: false,
      topicIdType: 0,
      topicId: 33,
      msgId: 501,
      data: bytes("v"),
      dataOffset: 0,
      dataLength: 1,
    };
    h.fromGateway(publish);
    h.fromGateway({ ...publish, dup: true });
    expect(h.take()).toEqual([
      { type: MsgType.PubRec, msgId: 501 },
      { type: MsgType.PubRec, msgId: 501 },
    ]);
    expect(h.takeEvents()).toEqual(["message w/x|0|33|v|2|false"]);
    h.fromGateway({ type: MsgType.PubRel, msgId: 501 });
    expect(h.take()).toEqual([{ type: MsgType.PubComp, msgId: 501 }]);
  });

  it("answers a PUBLISH on an unknown topic id with PUBACK 'invalid topic id' and does not deliver it", () => {
    const h = new Harness();
    h.connect();
    h.fromGateway({
      type: MsgType.Publish,
      dup: false,
      qos: 1,
      retain: false,
      topicIdType: 0,
      topicId: 99,
      msgId: 7,
      data: bytes("z"),
      dataOffset: 0,
      dataLength: 1,
    });
    expect(h.take()).toEqual([{ type: MsgType.PubAck, topicId: 99, msgId: 7, returnCode: ReturnCode.InvalidTopicId }]);
    expect(h.takeEvents()).toEqual([]);
  });

  it("drops malformed datagrams and datagrams from other senders, counting them", () => {
    const h = new Harness();
    h.connect();
    h.client.receive([3, 0x0c, 0], 3, true);
    h.client.receive([0xff], 1, true);
    h.fromGateway({ type: MsgType.PingResp }, false);
    expect(h.client.dropped).toBe(3);
    expect(h.take()).toEqual([]);
  });
});

describe("device client core: keep-alive, sleep and gateway loss", () => {
  it("sends PINGREQ after keepAlive seconds of silence and loses the gateway when PINGRESP never comes", () => {
    const h = new Harness((o) => (o.keepAlive = 30));
    h.connect();
    h.advance(29_999);
    expect(h.take()).toEqual([]);
    h.advance(1);
    expect(h.take()).toEqual([{ type: MsgType.PingReq, clientId: undefined }]);
    h.fromGateway({ type: MsgType.PingResp });
    h.advance(30_000);
    expect(types(h.take())).toEqual([MsgType.PingReq]);
    for (let i = 0; i < 3; i++) h.advance(T_RETRY);
    expect(types(h.take())).toEqual([MsgType.PingReq, MsgType.PingReq, MsgType.PingReq]);
    h.advance(T_RETRY);
    expect(h.client.state).toBe(ClientState.Lost);
  });

  it("sleeps, wakes with PINGREQ(clientId), takes buffered messages, and sleeps again on PINGRESP (§6.14)", () => {
    const h = new Harness();
    h.connect();
    h.client.subscribe("s", 1);
    h.fromGateway({ type: MsgType.SubAck, qos: 1, topicId: 4, msgId: 1, returnCode: 0 });
    h.take();
    h.takeEvents();
    expect(h.client.sleep(60)).toBe(true);
    expect(h.take()).toEqual([{ type: MsgType.Disconnect, duration: 60 }]);
    h.fromGateway({ type: MsgType.Disconnect, duration: undefined });
    expect(h.client.state).toBe(ClientState.Asleep);
    h.advance(59_999);
    expect(h.take()).toEqual([]);
    h.advance(1);
    expect(h.take()).toEqual([{ type: MsgType.PingReq, clientId: "dev-1" }]);
    h.fromGateway({
      type: MsgType.Publish,
      dup: false,
      qos: 1,
      retain: false,
      topicIdType: 0,
      topicId: 4,
      msgId: 9,
      data: bytes("b"),
      dataOffset: 0,
      dataLength: 1,
    });
    expect(types(h.take())).toEqual([MsgType.PubAck]);
    h.fromGateway({ type: MsgType.PingResp });
    expect(h.client.state).toBe(ClientState.Asleep);
    expect(h.takeEvents()).toEqual([
      `state ${ClientState.Asleep}`,
      `state ${ClientState.Awake}`,
      "message s|0|4|b|1|false",
      `state ${ClientState.Asleep}`,
    ]);
    h.advance(60_000);
    expect(h.take()).toEqual([{ type: MsgType.PingReq, clientId: "dev-1" }]);
    expect(h.client.connect()).toBe(true);
    expect(types(h.take())).toEqual([MsgType.Connect]);
  });

  it("refuses to sleep with an exchange open", () => {
    const h = new Harness();
    h.connect();
    h.client.publishId(TopicIdType.Predefined, 1, bytes("a"), 0, 1, 1, false);
    expect(h.client.sleep(10)).toBe(false);
  });

  it("searches after a random delay, connects to the advertised gateway and loses it after N_ADV missed ADVERTISEs", () => {
    const h = new Harness((o) => (o.searchGateway = true));
    h.client.start(0);
    expect(h.client.state).toBe(ClientState.Searching);
    h.advance(2_499);
    expect(h.sent).toEqual([]);
    h.advance(1);
    expect(h.sent.splice(0)).toMatchObject([{ to: "broadcast", message: { type: MsgType.SearchGw, radius: 1 } }]);
    h.fromGateway({ type: MsgType.Advertise, gwId: 7, duration: 20 }, false);
    expect(h.selected).toEqual([7]);
    expect(types(h.take())).toEqual([MsgType.Connect]);
    h.fromGateway({ type: MsgType.ConnAck, returnCode: 0 });
    h.takeEvents();
    h.fromGateway({ type: MsgType.PingResp });
    h.advance(40_000);
    h.fromGateway({ type: MsgType.Advertise, gwId: 7, duration: 20 });
    h.advance(60_000 + T_RETRY);
    expect(h.client.state).toBe(ClientState.Active);
    h.advance(1);
    expect(h.client.state).toBe(ClientState.Lost);
  });

  it("takes a GWINFO while searching, and falls back to the configured gateway after N_RETRY searches", () => {
    const g = new Harness((o) => (o.searchGateway = true));
    g.client.start(0);
    g.fromGateway({ type: MsgType.GwInfo, gwId: 3, gwAdd: [] }, false);
    expect(g.selected).toEqual([3]);
    expect(types(g.take())).toEqual([MsgType.Connect]);

    const h = new Harness((o) => (o.searchGateway = true));
    h.client.start(0);
    h.advance(2_500);
    h.advance(T_RETRY);
    h.advance(T_RETRY);
    expect(h.sent.splice(0).map((s) => s.to)).toEqual(["broadcast", "broadcast", "broadcast"]);
    h.advance(T_RETRY);
    expect(h.selected).toEqual([-1]);
    expect(h.sent.splice(0)).toMatchObject([{ to: "gateway", message: { type: MsgType.Connect } }]);
  });

  it("starts again when the gateway sends DISCONNECT on its own, and disconnect() ends cleanly", () => {
    const h = new Harness((o) => (o.reconnectDelay = 1000));
    h.connect();
    h.fromGateway({ type: MsgType.Disconnect, duration: undefined });
    expect(h.client.state).toBe(ClientState.Lost);
    h.advance(1000);
    expect(types(h.take())).toEqual([MsgType.Connect]);
    h.fromGateway({ type: MsgType.ConnAck, returnCode: 0 });
    expect(h.client.disconnect()).toBe(true);
    expect(h.take()).toEqual([{ type: MsgType.Disconnect, duration: undefined }]);
    h.fromGateway({ type: MsgType.Disconnect, duration: undefined });
    expect(h.client.state).toBe(ClientState.Disconnected);
  });
});
