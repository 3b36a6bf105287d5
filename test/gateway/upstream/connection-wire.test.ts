// MQTT 3.1.1 acknowledgement rules and table bounds of MqttConnection, packet by packet. A scripted TCP
// peer plays the broker because no real broker resends a PUBLISH, withholds PUBACK or sends PUBREL on
// demand; what it does not cover (a broker's own behaviour) is in connection.test.ts against aedes and
// Mosquitto.
import type { IPublishPacket } from "mqtt-packet";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openConnection, record, ScriptedBroker, until, type Recorded } from "./support";

let peer: ScriptedBroker;
beforeAll(async () => {
  peer = await ScriptedBroker.start();
});
afterAll(async () => {
  await peer.close();
});
beforeEach(() => {
  peer.connectAnswer = 0;
  peer.closeOnDisconnect = true;
});

function publish(messageId: number, payload: string, qos: 0 | 1 | 2, dup = false): IPublishPacket {
  return { cmd: "publish", topic: "t", payload: Buffer.from(payload), qos, dup, retain: false, messageId };
}

/** A QoS 0 marker from the peer: once it arrives, everything the peer sent before it was handled. */
async function marker(r: Recorded, name: string): Promise<void> {
  peer.send({ cmd: "publish", topic: "marker", payload: Buffer.from(name), qos: 0, dup: false, retain: false });
  await until(`marker ${name}`, () => r.messages.some((m) => m.topic === "marker" && m.payload === name), 5000);
}

const payloads = (r: Recorded): string[] => r.messages.filter((m) => m.topic === "t").map((m) => m.payload);

describe("MqttConnection, incoming PUBLISH (§4.3.2, §4.3.3)", () => {
  it("QoS 2: delivered once per identifier; PUBREC only at acknowledge(); a resend before it is ignored, after it gets PUBREC again; PUBREL gets PUBCOMP and frees the identifier", async () => {
    const r = await openConnection({ url: peer.url });
    peer.send(publish(7, "a", 2));
    peer.send(publish(7, "a", 2, true));
    await marker(r, "1");
    expect(payloads(r)).toEqual(["a"]);
    expect(r.messages[0]).toMatchObject({ qos: 2, messageId: 7, dup: false });
    expect(peer.count("pubrec")).toBe(0);

    r.conn.acknowledge(7);
    await until("PUBREC", () => peer.count("pubrec", 7) === 1, 5000);
    r.conn.acknowledge(7);
    peer.send(publish(7, "a", 2, true));
    await until("PUBREC again", () => peer.count("pubrec", 7) === 2, 5000);
    await marker(r, "2");
    expect(payloads(r)).toEqual(["a"]);

    peer.send({ cmd: "pubrel", messageId: 7 });
    await until("PUBCOMP", () => peer.count("pubcomp", 7) === 1, 5000);
    peer.send(publish(7, "b", 2));
    await marker(r, "3");
    expect(payloads(r)).toEqual(["a", "b"]);
    expect(peer.count("pubrec", 7)).toBe(2);

    // A PUBREL for an identifier this connection never saw (from an earlier connection) is answered.
    peer.send({ cmd: "pubrel", messageId: 99 });
    await until("PUBCOMP for 99", () => peer.count("pubcomp", 99) === 1, 5000);
    await r.conn.close(true);
  });

  it("QoS 1: a resend (DUP) while unacknowledged is not delivered again; PUBACK at acknowledge(); afterwards the identifier is new", async () => {
    const r = await openConnection({ url: peer.url });
    peer.send(publish(3, "first", 1));
    peer.send(publish(3, "first", 1, true));
    peer.send(publish(4, "second", 1));
    await marker(r, "1");
    expect(payloads(r)).toEqual(["first", "second"]);
    expect(peer.count("puback")).toBe(0);

    r.conn.acknowledge(4);
    r.conn.acknowledge(3);
    r.conn.acknowledge(3);
    await until("two PUBACKs", () => peer.count("puback") === 2, 5000);
    expect(peer.received.filter((p) => p.cmd === "puback").map((p) => p.messageId)).toEqual([4, 3]);

    peer.send(publish(3, "third", 1, true));
    await marker(r, "2");
    expect(payloads(r)).toEqual(["first", "second", "third"]);
    await r.conn.close(true);
  });

  it("acknowledge() of an unknown identifier sends nothing; a QoS 0 message has identifier 0", async () => {
    const r = await openConnection({ url: peer.url });
    r.conn.acknowledge(12345);
    r.conn.acknowledge(0);
    peer.send(publish(0, "zero", 0));
    await marker(r, "1");
    expect(r.messages[0]).toMatchObject({ payload: "zero", qos: 0, messageId: 0 });
    await r.conn.close(true);
    expect(peer.received.map((p) => p.cmd)).toEqual(["connect", "disconnect"]);
  });

  it("a QoS 1 PUBLISH with packet identifier 0 fails the connection (§2.3.1)", async () => {
    const r = await openConnection({ url: peer.url });
    peer.send(publish(0, "bad", 1));
    await until("closed", () => r.closed.length > 0, 5000);
    expect(r.messages).toEqual([]);
    expect(r.closed[0]?.error?.message).toMatch(/packet identifier/);
    expect(r.conn.state).toBe("failed");
  });

  it("a packet only a client sends (SUBSCRIBE) fails the connection", async () => {
    const r = await openConnection({ url: peer.url });
    peer.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "x", qos: 0 }] });
    await until("closed", () => r.closed.length > 0, 5000);
    expect(r.closed[0]?.error?.message).toMatch(/unexpected subscribe/);
  });
});

describe("MqttConnection, outgoing packets", () => {
  it("QoS 2: PUBLISH → PUBREC → PUBREL → PUBCOMP; done(true) only at PUBCOMP; a repeated PUBREC gets PUBREL again", async () => {
    const r = await openConnection({ url: peer.url });
    const done: boolean[] = [];
    expect(r.conn.publish("q2", Buffer.from("x"), 2, false, (ok) => done.push(ok))).toBe(true);
    await until("PUBLISH", () => peer.count("publish") === 1, 5000);
    const id = peer.received.find((p) => p.cmd === "publish")?.messageId ?? 0;
    expect(id).toBeGreaterThan(0);
    expect(peer.received.find((p) => p.cmd === "publish")).toMatchObject({ qos: 2, dup: false, topic: "q2" });

    // PUBCOMP before PUBREC is not the end of the exchange.
    peer.send({ cmd: "pubcomp", messageId: id });
    peer.send({ cmd: "pubrec", messageId: id });
    await until("PUBREL", () => peer.count("pubrel", id) === 1, 5000);
    expect(done).toEqual([]);
    peer.send({ cmd: "pubrec", messageId: id });
    await until("PUBREL again", () => peer.count("pubrel", id) === 2, 5000);
    peer.send({ cmd: "pubcomp", messageId: id });
    await until("done", () => done.length === 1, 5000);
    expect(done).toEqual([true]);
    await r.conn.close(true);
  });

  it("identifiers: 65535 QoS 1 publishes in flight, each with its own; then publish refuses; a PUBACK frees one", async () => {
    const r = await openConnection({ url: peer.url });
    const done = new Map<number, boolean>();
    let accepted = 0;
    for (let i = 1; i <= 65535; i++) {
      if (r.conn.publish("many", Buffer.from("m"), 1, false, (ok) => done.set(i, ok))) accepted++;
    }
    expect(accepted).toBe(65535);
    expect(r.conn.publish("many", Buffer.from("m"), 1, false, () => done.set(0, true))).toBe(false);
    const granted: number[][] = [];
    r.conn.subscribe([{ topic: "s", qos: 1 }], (g) => granted.push(g));
    await until("the refused SUBSCRIBE", () => granted.length === 1, 5000);
    expect(granted).toEqual([[0x80]]);

    await until("every PUBLISH", () => peer.count("publish") === 65535, 20_000);
    const ids = new Set(peer.received.filter((p) => p.cmd === "publish").map((p) => p.messageId ?? 0));
    expect(ids.size).toBe(65535);
    expect(Math.min(...ids)).toBe(1);
    expect(Math.max(...ids)).toBe(65535);

    const freed = peer.received.find((p) => p.cmd === "publish" && p.messageId === 500);
    expect(freed).toBeDefined();
    peer.send({ cmd: "puback", messageId: 500 });
    await until("done for 500", () => done.size === 1, 5000);
    expect([...done]).toEqual([[500, true]]);
    expect(r.conn.publish("many", Buffer.from("again"), 1, false)).toBe(true);
    await until("the next PUBLISH", () => peer.count("publish") === 65536, 5000);
    expect(peer.received.filter((p) => p.cmd === "publish").at(-1)).toMatchObject({ messageId: 500 });
    await r.conn.close(false);
  });

  it("QoS 0 past maxBufferedOctets of write backlog is refused, and accepted again once written", async () => {
    const r = await openConnection({ url: peer.url, maxBufferedOctets: 4096 });
    const kib = Buffer.alloc(1024, 0x61);
    const accepted: boolean[] = [];
    for (let i = 0; i < 20; i++) accepted.push(r.conn.publish("big", kib, 0, false));
    const sent = accepted.filter((a) => a).length;
    // Writes of one event-loop turn are held back together, so the backlog grows within the loop.
    expect(accepted).toEqual([...Array<boolean>(sent).fill(true), ...Array<boolean>(20 - sent).fill(false)]);
    // Fixed header 1 + remaining length 2 + topic length 2 + "big" 3 + payload.
    const packet = 1 + 2 + 2 + 3 + kib.length;
    expect((sent - 1) * packet).toBeLessThanOrEqual(4096);
    expect(sent * packet).toBeGreaterThan(4096);
    await until("the accepted ones", () => peer.count("publish") === sent, 5000);
    expect(r.conn.publish("big", kib, 0, false)).toBe(true);
    await until("one more", () => peer.count("publish") === sent + 1, 5000);
    await r.conn.close(true);
  });

  it("what waits when the connection ends fails: done(false), 0x80 per filter, unsubscribe false; closed names the broker", async () => {
    const r = await openConnection({ url: peer.url });
    const results: unknown[] = [];
    r.conn.publish("a", Buffer.from("1"), 1, false, (ok) => results.push(["q1", ok]));
    r.conn.publish("a", Buffer.from("2"), 2, false, (ok) => results.push(["q2", ok]));
    r.conn.subscribe(
      [
        { topic: "x", qos: 0 },
        { topic: "y", qos: 2 },
      ],
      (g) => results.push(["sub", g]),
    );
    r.conn.unsubscribe(["z"], (ok) => results.push(["unsub", ok]));
    await until("all four at the peer", () => peer.received.length === 5, 5000);
    peer.socket?.end();
    await until("closed", () => r.closed.length > 0, 5000);
    expect(results).toEqual([
      ["q1", false],
      ["q2", false],
      ["sub", [0x80, 0x80]],
      ["unsub", false],
    ]);
    expect(r.closed).toHaveLength(1);
    expect(r.closed[0]?.wasOpen).toBe(true);
    expect(r.closed[0]?.error?.message).toMatch(/broker closed/);
    expect(r.conn.state).toBe("failed");
  });

  it("when not open nothing is sent: publish false, subscribe 0x80, unsubscribe false, never synchronously", async () => {
    const r = record({ url: peer.url });
    const results: unknown[] = [];
    expect(r.conn.publish("a", Buffer.from("1"), 0, false)).toBe(false);
    expect(r.conn.publish("a", Buffer.from("1"), 1, false, (ok) => results.push(["q1", ok]))).toBe(false);
    r.conn.subscribe([{ topic: "x", qos: 1 }], (g) => results.push(["sub", g]));
    r.conn.unsubscribe(["x"], (ok) => results.push(["unsub", ok]));
    r.conn.acknowledge(1);
    expect(results).toEqual([]);
    await Promise.resolve();
    expect(results).toEqual([
      ["sub", [0x80]],
      ["unsub", false],
    ]);

    const before = peer.accepted;
    await peer.connectFrom(() => {
      peer.connectAnswer = "silent";
      r.conn.start();
    });
    expect(peer.accepted).toBe(before + 1);
    expect(r.conn.publish("a", Buffer.from("1"), 0, false)).toBe(false);
    await r.conn.close(true);
    // Nothing of the refused operations went out; the graceful close says DISCONNECT after CONNECT (§3.1.4).
    expect(peer.received.map((p) => p.cmd)).toEqual(["connect", "disconnect"]);
  });
});
