import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MsgType, ReturnCode, shortTopicId, TopicIdType } from "../../../protocol";
import { SnClient } from "../../support/sn-client";
import { startHarness, type Harness } from "../../e2e/helpers";

const SHORT = TopicIdType.Short;

describe("topic names with '+' or '#' over UDP, embedded broker (MQTT 3.1.1 §4.7.1)", () => {
  let h: Harness;
  beforeAll(async () => {
    // One topic id per client: a REGISTER refused without allocating leaves room for the next one.
    h = await startHarness("embedded", { limits: { maxTopicsPerClient: 1 } });
  });
  afterAll(() => h.close());

  const wildcardTopics = (): string[] =>
    h.watcher.messages.map((m) => m.topic).filter((t) => t.includes("+") || t.includes("#"));

  it("REGISTER gets REGACK 0x03 and no id; PUBLISH QoS 1/2 gets PUBACK 0x03, QoS 0 is dropped; nothing reaches the broker", async () => {
    const c = await SnClient.open(h.address);
    expect(await c.connect("wild-names")).toBe(ReturnCode.Accepted);
    expect(await c.register("a/+/b")).toMatchObject({ topicId: 0, returnCode: ReturnCode.NotSupported });
    expect(await c.register("a/#")).toMatchObject({ topicId: 0, returnCode: ReturnCode.NotSupported });
    const plain = await c.register("plain/name");
    expect(plain.returnCode).toBe(ReturnCode.Accepted);

    const q1 = c.publish(shortTopicId("#a"), "q1", { qos: 1, topicIdType: SHORT });
    expect(await c.expect(MsgType.PubAck)).toMatchObject({
      msgId: q1,
      topicId: shortTopicId("#a"),
      returnCode: ReturnCode.NotSupported,
    });
    const q2 = c.publish(shortTopicId("+b"), "q2", { qos: 2, topicIdType: SHORT });
    expect(await c.expect(MsgType.PubAck)).toMatchObject({ msgId: q2, returnCode: ReturnCode.NotSupported });
    c.publish(shortTopicId("a#"), "q0", { qos: 0, topicIdType: SHORT });

    // A publish sent after them is forwarded; the refused ones, sent earlier on the same path, never were.
    const ok = c.publish(plain.topicId, "after", { qos: 1 });
    expect(await c.expect(MsgType.PubAck)).toMatchObject({ msgId: ok, returnCode: ReturnCode.Accepted });
    await h.watcher.waitFor((m) => m.topic === "plain/name" && m.payload === "after");
    expect(wildcardTopics()).toEqual([]);
    expect(c.pending().filter((m) => m.type === MsgType.PubAck || m.type === MsgType.PubRec)).toEqual([]);
    expect(h.gateway.counters.topicNamesRefused).toBe(5);
    expect(h.gateway.counters.protocolViolations).toBe(0);
  });

  it("a QoS -1 PUBLISH on a short name with '+' or '#' is dropped and counted, without an answer", async () => {
    const before = h.gateway.counters.topicNamesRefused;
    const droppedBefore = h.gateway.counters.qosMinusOneDropped;
    const c = await SnClient.open(h.address);
    c.publish(shortTopicId("#x"), "refused", { qos: -1, topicIdType: SHORT });
    c.publish(shortTopicId("x+"), "refused", { qos: -1, topicIdType: SHORT });
    c.publish(shortTopicId("ok"), "after", { qos: -1, topicIdType: SHORT });
    await h.watcher.waitFor((m) => m.topic === "ok" && m.payload === "after");
    expect(wildcardTopics()).toEqual([]);
    expect(h.watcher.count((m) => m.payload === "refused")).toBe(0);
    expect(h.gateway.counters.topicNamesRefused - before).toBe(2);
    expect(h.gateway.counters.qosMinusOneDropped - droppedBefore).toBe(2);
    expect(c.pending()).toEqual([]);
  });
});
