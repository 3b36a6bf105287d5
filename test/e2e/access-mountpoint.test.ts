import { afterEach, describe, expect, it } from "vitest";
import { MsgType, ReturnCode } from "../../protocol";
import { Peer } from "../gateway/admission/peer";
import { SnClient } from "../support/sn-client";
import { startHarness, type Harness } from "./helpers";

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function harness(): Promise<Harness> {
  const h = await startHarness("embedded", {
    predefinedTopics: { global: { status: 3 } },
    access: {
      default: "allow",
      clients: [{ clientId: "m-*", mountpoint: "site/%c/", publish: ["t", "status"], subscribe: ["cmd"] }],
      mountpoints: [{ from: "udp:127.0.0.2", mountpoint: "radio/" }],
    },
  });
  cleanup.push(() => h.close());
  return h;
}

describe("access mountpoints over UDP, embedded broker", () => {
  it("an entry's mountpoint prefixes its client's topics at the broker both ways; its filters apply to the client's own names", async () => {
    const h = await harness();
    const d = await SnClient.open(h.address);
    cleanup.push(() => d.close());
    expect(await d.connect("m-1")).toBe(ReturnCode.Accepted);
    const t = await d.register("t");
    expect(t.returnCode).toBe(ReturnCode.Accepted);
    expect((await d.register("site/m-1/t")).returnCode).toBe(ReturnCode.NotSupported);
    d.publish(t.topicId, "reading", { qos: 1 });
    expect((await d.expect(MsgType.PubAck)).returnCode).toBe(ReturnCode.Accepted);
    d.publish(3, "predefined", { qos: 1, topicIdType: 1 });
    expect((await d.expect(MsgType.PubAck)).returnCode).toBe(ReturnCode.Accepted);
    await h.watcher.waitFor((m) => m.topic === "site/m-1/t" && m.payload === "reading");
    await h.watcher.waitFor((m) => m.topic === "site/m-1/status" && m.payload === "predefined");

    const cmd = await d.subscribe("cmd");
    expect(cmd.returnCode).toBe(ReturnCode.Accepted);
    await h.watcher.client.publishAsync("cmd", "not-mine");
    await h.watcher.client.publishAsync("site/m-1/cmd", "on");
    const down = await d.expect(MsgType.Publish);
    expect(down.topicId).toBe(cmd.topicId);
    expect(Buffer.from(down.data.slice(down.dataOffset, down.dataOffset + down.dataLength)).toString()).toBe("on");
    expect(d.pending().filter((m) => m.type === MsgType.Publish)).toEqual([]);

    // A client lost (keep-alive of 1 s passed in silence): its will goes to the broker under its mountpoint.
    const lost = await SnClient.open(h.address);
    cleanup.push(() => lost.close());
    expect(await lost.connect("m-2", { duration: 1, will: { topic: "t", message: "gone" } })).toBe(ReturnCode.Accepted);
    await h.watcher.waitFor((m) => m.topic === "site/m-2/t" && m.payload === "gone");
    expect(h.watcher.count((m) => m.topic === "t")).toBe(0);
  });

  it("a link's mountpoint holds for clients whose entry names none, and for QoS -1 without a session", async () => {
    const h = await harness();
    const radio = await Peer.open("127.0.0.2", h.address);
    cleanup.push(() => radio.close());
    radio.connect("plain-1");
    expect((await radio.next(MsgType.ConnAck)).returnCode).toBe(ReturnCode.Accepted);
    const register = { type: MsgType.Register, topicId: 0, msgId: 1, topicName: "t" } as const;
    radio.send(register);
    const ack = await radio.next(MsgType.RegAck);
    radio.send({
      type: MsgType.Publish,
      dup: false,
      qos: 0,
      retain: false,
      topicIdType: 0,
      topicId: ack.topicId,
      msgId: 0,
      data: Array.from(Buffer.from("via-radio")),
      dataOffset: 0,
      dataLength: 9,
    });
    await h.watcher.waitFor((m) => m.topic === "radio/t" && m.payload === "via-radio");

    const anonymous = await Peer.open("127.0.0.2", h.address);
    cleanup.push(() => anonymous.close());
    anonymous.send({
      type: MsgType.Publish,
      dup: false,
      qos: -1,
      retain: false,
      topicIdType: 1,
      topicId: 3,
      msgId: 0,
      data: Array.from(Buffer.from("anonymous")),
      dataOffset: 0,
      dataLength: 9,
    });
    await h.watcher.waitFor((m) => m.topic === "radio/status" && m.payload === "anonymous");

    const here = await SnClient.open(h.address);
    cleanup.push(() => here.close());
    expect(await here.connect("plain-2")).toBe(ReturnCode.Accepted);
    const mine = await here.register("t");
    here.publish(mine.topicId, "no-mountpoint", { qos: 1 });
    await here.expect(MsgType.PubAck);
    await h.watcher.waitFor((m) => m.topic === "t" && m.payload === "no-mountpoint");
  });
});
