import { readFileSync, rmSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startMosquitto, type RunningMosquitto } from "../../support/mosquitto";
import { systemHas } from "../../support/system";
import {
  embedded,
  makeTlsFiles,
  mosquitto,
  openConnection,
  PASSWORD,
  record,
  ScriptedBroker,
  sleep,
  until,
  USERNAME,
  type BrokerRun,
  type BrokerUnderTest,
  type Received,
  type TlsFiles,
} from "./support";

const hasMosquitto = systemHas(["mosquitto", "mosquitto_passwd"], "sudo apt-get install -y mosquitto");
const brokers: BrokerUnderTest[] = hasMosquitto ? [embedded, mosquitto] : [embedded];

let unique = 0;
const id = (prefix: string): string => `${prefix}-${process.pid}-${++unique}`;

/** An mqtt.js client on the broker's other side. */
async function other(url: string, subscribe?: string): Promise<{ client: MqttClient; got: Received[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: id("mqttjs") });
  const got: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    got.push({
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      messageId: packet.messageId ?? 0,
    }),
  );
  if (subscribe !== undefined) await client.subscribeAsync(subscribe, { qos: 2 });
  return { client, got };
}

describe.each(brokers)("MqttConnection against $name", (broker) => {
  let run: BrokerRun;
  beforeAll(async () => {
    run = await broker.start();
  });
  afterAll(async () => {
    await run.stop();
  });

  it("connects: CONNACK 0 opens it; close(true) ends it with closed(undefined, true)", async () => {
    const r = record({ url: run.url });
    expect(r.conn.state).toBe("closed");
    r.conn.start();
    expect(r.conn.state).toBe("connecting");
    await until("CONNACK", () => r.connacks.length > 0, 5000);
    expect(r.connacks).toEqual([{ returnCode: 0, sessionPresent: false }]);
    expect(r.conn.state).toBe("open");
    const closing = r.conn.close(true);
    expect(r.conn.state).toBe("closing");
    await closing;
    expect(r.conn.state).toBe("closed");
    expect(r.closed).toEqual([{ error: undefined, wasOpen: true }]);
  });

  it("a refused CONNECT gives connack(4 or 5), state failed, closed(error, false); the right password is accepted", async () => {
    const guarded = await broker.startWithPassword();
    try {
      const wrong = record({ url: guarded.url, username: USERNAME, password: "wrong" });
      wrong.conn.start();
      await until("closed", () => wrong.closed.length > 0, 5000);
      expect(wrong.connacks).toHaveLength(1);
      expect([4, 5]).toContain(wrong.connacks[0]?.returnCode);
      expect(wrong.conn.state).toBe("failed");
      expect(wrong.closed[0]?.wasOpen).toBe(false);
      expect(wrong.closed[0]?.error?.message).toMatch(/refused/);
      expect(wrong.conn.publish("t", Buffer.from("x"), 0, false)).toBe(false);
      await wrong.conn.close(true);

      const right = await openConnection({ url: guarded.url, username: USERNAME, password: PASSWORD });
      expect(right.conn.state).toBe("open");
      await right.conn.close(true);
    } finally {
      await guarded.stop();
    }
  });

  it("publishes at QoS 0, 1 and 2 reach an mqtt.js subscriber; done(true) at PUBACK and PUBCOMP", async () => {
    const topic = id("pub");
    const sub = await other(run.url, `${topic}/#`);
    const r = await openConnection({ url: run.url });
    const done: Array<[number, boolean]> = [];
    expect(r.conn.publish(`${topic}/0`, Buffer.from("zero"), 0, false)).toBe(true);
    expect(r.conn.publish(`${topic}/1`, new Uint8Array([0x6f, 0x6e, 0x65]), 1, false, (ok) => done.push([1, ok]))).toBe(
      true,
    );
    expect(r.conn.publish(`${topic}/2`, Buffer.from("two"), 2, false, (ok) => done.push([2, ok]))).toBe(true);
    await until("PUBACK and PUBCOMP", () => done.length === 2, 5000);
    expect(done.sort()).toEqual([
      [1, true],
      [2, true],
    ]);
    await until("three messages", () => sub.got.length === 3, 5000);
    const byTopic = Object.fromEntries(sub.got.map((m) => [m.topic, [m.payload, m.qos]]));
    expect(byTopic).toEqual({ [`${topic}/0`]: ["zero", 0], [`${topic}/1`]: ["one", 1], [`${topic}/2`]: ["two", 2] });

    // A retained QoS 1 message is kept by the broker for a subscriber that comes later.
    const retained: boolean[] = [];
    r.conn.publish(`${topic}/kept`, Buffer.from("kept"), 1, true, (ok) => retained.push(ok));
    await until("PUBACK of the retained message", () => retained.length === 1, 5000);
    const late = await other(run.url, `${topic}/kept`);
    await until("the retained message", () => late.got.length === 1, 5000);
    expect(late.got[0]).toMatchObject({ payload: "kept", retain: true, qos: 1 });

    await r.conn.close(true);
    await sub.client.endAsync();
    await late.client.endAsync();
  });

  it("subscribes at each QoS, receives at each QoS, and unsubscribes", async () => {
    const topic = id("sub");
    const r = await openConnection({ url: run.url });
    const granted: number[][] = [];
    r.conn.subscribe(
      [
        { topic: `${topic}/a`, qos: 0 },
        { topic: `${topic}/b`, qos: 1 },
        { topic: `${topic}/c`, qos: 2 },
      ],
      (g) => granted.push(g),
    );
    await until("SUBACK", () => granted.length === 1, 5000);
    expect(granted).toEqual([[0, 1, 2]]);

    const pub = await other(run.url);
    for (const leaf of ["a", "b", "c"]) await pub.client.publishAsync(`${topic}/${leaf}`, `to ${leaf}`, { qos: 2 });
    await until("three messages", () => r.messages.length === 3, 5000);
    const byTopic = Object.fromEntries(r.messages.map((m) => [m.topic, [m.payload, m.qos]]));
    expect(byTopic).toEqual({
      [`${topic}/a`]: ["to a", 0],
      [`${topic}/b`]: ["to b", 1],
      [`${topic}/c`]: ["to c", 2],
    });
    for (const m of r.messages) {
      if (m.qos === 0) expect(m.messageId).toBe(0);
      else r.conn.acknowledge(m.messageId);
    }

    const unsubscribed: boolean[] = [];
    r.conn.unsubscribe([`${topic}/a`], (ok) => unsubscribed.push(ok));
    await until("UNSUBACK", () => unsubscribed.length === 1, 5000);
    expect(unsubscribed).toEqual([true]);
    await pub.client.publishAsync(`${topic}/a`, "after unsubscribe", { qos: 1 });
    await pub.client.publishAsync(`${topic}/c`, "marker", { qos: 1 });
    await until("the marker", () => r.messages.some((m) => m.payload === "marker"), 5000);
    expect(r.messages.filter((m) => m.payload === "after unsubscribe")).toEqual([]);

    await r.conn.close(true);
    await pub.client.endAsync();
  });

  it("an unacknowledged QoS 1/2 message holds nothing back, is redelivered after a reconnect with clean=false, and acknowledge() ends that", async () => {
    const topic = id("held");
    const clientId = id("persistent");
    const first = await openConnection({ url: run.url, clientId, clean: false, keepAlive: 1 });
    const granted: number[][] = [];
    first.conn.subscribe([{ topic, qos: 2 }], (g) => granted.push(g));
    await until("SUBACK", () => granted.length === 1, 5000);

    const pub = await other(run.url);
    await pub.client.publishAsync(topic, "held at 1", { qos: 1 });
    await pub.client.publishAsync(topic, "held at 2", { qos: 2 });
    await pub.client.publishAsync(topic, "later at 0", { qos: 0 });
    await until("three messages", () => first.messages.length === 3, 5000);
    expect(first.messages.map((m) => [m.payload, m.qos])).toEqual([
      ["held at 1", 1],
      ["held at 2", 2],
      ["later at 0", 0],
    ]);
    // Keep-alive 1 s: the broker drops a client silent for 1.5 s, and this one fails if PINGRESP were
    // held behind the unacknowledged messages. Still open after more than two periods.
    await sleep(2500);
    expect(first.conn.state).toBe("open");
    expect(first.closed).toEqual([]);
    await first.conn.close(true);

    const second = await openConnection({ url: run.url, clientId, clean: false, keepAlive: 1 });
    expect(second.connacks[0]?.sessionPresent).toBe(true);
    await until("both held messages again", () => second.messages.length >= 2, 5000);
    expect(second.messages.map((m) => [m.payload, m.qos])).toEqual([
      ["held at 1", 1],
      ["held at 2", 2],
    ]);
    for (const m of second.messages) second.conn.acknowledge(m.messageId);
    // The broker answers in order: the PUBACK of this publish comes after its PUBREL of the QoS 2 one,
    // which this connection answered with PUBCOMP before DISCONNECT goes.
    const flushed: boolean[] = [];
    second.conn.publish(`${topic}/flush`, Buffer.from("f"), 1, false, (ok) => flushed.push(ok));
    await until("PUBACK", () => flushed.length === 1, 5000);
    await second.conn.close(true);

    const third = await openConnection({ url: run.url, clientId, clean: false, keepAlive: 1 });
    expect(third.connacks[0]?.sessionPresent).toBe(true);
    await pub.client.publishAsync(topic, "marker", { qos: 1 });
    await until("the marker", () => third.messages.some((m) => m.payload === "marker"), 5000);
    expect(third.messages.map((m) => m.payload)).toEqual(["marker"]);
    third.conn.acknowledge(third.messages[0]?.messageId ?? 0);

    // Clean up the session at the broker.
    await third.conn.close(true);
    const cleaner = await openConnection({ url: run.url, clientId, clean: true });
    await cleaner.conn.close(true);
    await pub.client.endAsync();
  });

  it("the will is published after close(false), not after close(true)", async () => {
    const topic = id("will");
    const watch = await other(run.url, `${topic}/#`);
    const will = (name: string) => ({
      topic: `${topic}/${name}`,
      payload: Buffer.from(name),
      qos: 1 as const,
      retain: false,
    });

    const dropped = await openConnection({ url: run.url, will: will("dropped") });
    await dropped.conn.close(false);
    expect(dropped.closed).toEqual([{ error: undefined, wasOpen: true }]);
    await until("the will of the dropped connection", () => watch.got.some((m) => m.payload === "dropped"), 5000);

    const polite = await openConnection({ url: run.url, will: will("polite") });
    await polite.conn.close(true);
    await watch.client.publishAsync(`${topic}/marker`, "marker", { qos: 1 });
    await until("the marker", () => watch.got.some((m) => m.payload === "marker"), 5000);
    expect(watch.got.map((m) => m.payload)).toEqual(["dropped", "marker"]);
    await watch.client.endAsync();
  });

  it("close() when open, twice in a row, and again once closed: every call resolves", async () => {
    const r = await openConnection({ url: run.url });
    await Promise.all([r.conn.close(true), r.conn.close(true)]);
    expect(r.conn.state).toBe("closed");
    await r.conn.close(false);
    await r.conn.close(true);
    expect(r.closed).toEqual([{ error: undefined, wasOpen: true }]);
    expect(r.conn.publish("t", Buffer.from("x"), 1, false)).toBe(false);
  });
});

describe("MqttConnection against a broker that is not there or misbehaves", () => {
  let peer: ScriptedBroker;
  beforeAll(async () => {
    peer = await ScriptedBroker.start();
  });
  afterAll(async () => {
    await peer.close();
  });

  it("an unreachable port fails with closed(error, false) and no connack", async () => {
    const r = record({ url: `mqtt://127.0.0.1:${await freePort()}` });
    r.conn.start();
    await until("closed", () => r.closed.length > 0, 5000);
    expect(r.connacks).toEqual([]);
    expect(r.closed).toHaveLength(1);
    expect(r.closed[0]?.wasOpen).toBe(false);
    expect(r.closed[0]?.error?.message).toMatch(/ECONNREFUSED/);
    expect(r.conn.state).toBe("failed");
    await r.conn.close(true);
  });

  it("a URL it cannot use fails the same way, without throwing", async () => {
    const r = record({ url: "ws://127.0.0.1:1" });
    r.conn.start();
    await until("closed", () => r.closed.length > 0, 5000);
    expect(r.closed[0]?.error?.message).toMatch(/scheme/);
    expect(r.conn.state).toBe("failed");
  });

  it("no CONNACK within connectTimeoutMs: closed(error, false), no connack", async () => {
    peer.connectAnswer = "silent";
    const r = record({ url: peer.url, connectTimeoutMs: 300 });
    await peer.connectFrom(() => r.conn.start());
    await until("closed", () => r.closed.length > 0, 5000);
    expect(r.connacks).toEqual([]);
    expect(r.closed[0]?.wasOpen).toBe(false);
    expect(r.closed[0]?.error?.message).toMatch(/CONNACK within 300 ms/);
    expect(r.conn.state).toBe("failed");
  });

  it("close() in every state resolves and never throws, twice in a row included; closed fires once", async () => {
    // Before start: nothing to close; start() afterwards does nothing.
    const idle = record({ url: peer.url });
    await Promise.all([idle.conn.close(true), idle.conn.close(false)]);
    idle.conn.start();
    expect(idle.conn.state).toBe("closed");
    await sleep(50);
    expect(idle.closed).toEqual([]);

    // Connecting: the peer accepts TCP and never answers CONNECT.
    peer.connectAnswer = "silent";
    const connecting = record({ url: peer.url, connectTimeoutMs: 10_000 });
    await peer.connectFrom(() => connecting.conn.start());
    expect(connecting.conn.state).toBe("connecting");
    await Promise.all([connecting.conn.close(true), connecting.conn.close(true)]);
    expect(connecting.conn.state).toBe("closed");
    expect(connecting.closed).toEqual([{ error: undefined, wasOpen: false }]);

    // Open, then closing: a graceful close to a peer that ignores DISCONNECT waits for it, and a
    // forced close meanwhile ends it at once.
    peer.connectAnswer = 0;
    peer.closeOnDisconnect = false;
    const open = await openConnection({ url: peer.url });
    const graceful = open.conn.close(true);
    expect(open.conn.state).toBe("closing");
    const again = open.conn.close(true);
    await until("DISCONNECT at the peer", () => peer.count("disconnect") === 1, 5000);
    expect(open.conn.state).toBe("closing");
    await Promise.all([graceful, again, open.conn.close(false)]);
    expect(open.conn.state).toBe("closed");

    // Closed: at once, as often as asked.
    await open.conn.close(true);
    await open.conn.close(false);
    expect(open.closed).toEqual([{ error: undefined, wasOpen: true }]);
    peer.closeOnDisconnect = true;
  });

  it("a graceful close to a peer that never closes the socket still resolves", async () => {
    peer.connectAnswer = 0;
    peer.closeOnDisconnect = false;
    const r = await openConnection({ url: peer.url });
    await r.conn.close(true);
    expect(peer.count("disconnect")).toBe(1);
    expect(r.closed).toEqual([{ error: undefined, wasOpen: true }]);
    peer.closeOnDisconnect = true;
  });

  it("keep-alive: a broker that goes silent after CONNACK is detected; closed(error, true)", async () => {
    peer.connectAnswer = 0;
    const r = await openConnection({ url: peer.url, keepAlive: 1 });
    await until("closed", () => r.closed.length > 0, 10_000);
    expect(peer.count("pingreq")).toBeGreaterThanOrEqual(1);
    expect(r.closed).toHaveLength(1);
    expect(r.closed[0]?.wasOpen).toBe(true);
    expect(r.closed[0]?.error?.message).toMatch(/PINGREQ/);
    expect(r.conn.state).toBe("failed");
  });

  it("keep-alive: PINGREQ after a quiet period, and PINGRESP keeps it open", async () => {
    peer.connectAnswer = 0;
    const r = await openConnection({ url: peer.url, keepAlive: 1 });
    let answered = 0;
    while (answered < 3) {
      await until("PINGREQ", () => peer.count("pingreq") > answered, 5000);
      peer.send({ cmd: "pingresp" });
      answered++;
    }
    expect(r.conn.state).toBe("open");
    expect(r.closed).toEqual([]);
    await r.conn.close(true);
  });

  it("malformed bytes after CONNACK close it with an error and no exception", async () => {
    peer.connectAnswer = 0;
    const r = await openConnection({ url: peer.url });
    // A PUBLISH header with both QoS bits set (§3.3.1.2: QoS 3 is malformed).
    peer.sendRaw([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]);
    await until("closed", () => r.closed.length > 0, 5000);
    expect(r.closed[0]?.wasOpen).toBe(true);
    expect(r.closed[0]?.error?.message).toMatch(/QoS/);
    expect(r.conn.state).toBe("failed");
    await r.conn.close(true);
  });

  it("malformed bytes instead of CONNACK close it with an error and no connack", async () => {
    peer.connectAnswer = "silent";
    const r = record({ url: peer.url });
    await peer.connectFrom(() => r.conn.start());
    // CONNACK with reserved flags set (§2.2.2: must be 0).
    peer.sendRaw([0x2f, 0x02, 0x00, 0x00]);
    await until("closed", () => r.closed.length > 0, 5000);
    expect(r.connacks).toEqual([]);
    expect(r.closed[0]?.wasOpen).toBe(false);
    expect(r.closed[0]?.error?.message).toMatch(/header flag/);
    expect(r.conn.state).toBe("failed");
  });
});

describe.runIf(systemHas(["mosquitto", "openssl"], "sudo apt-get install -y mosquitto openssl"))(
  "MqttConnection over TLS (mqtts://) to Mosquitto",
  () => {
    let tls: TlsFiles;
    let broker: RunningMosquitto;
    beforeAll(async () => {
      tls = makeTlsFiles();
      broker = await startMosquitto([`cafile ${tls.ca}`, `certfile ${tls.cert}`, `keyfile ${tls.key}`]);
    });
    afterAll(async () => {
      await broker?.stop();
      if (tls !== undefined) rmSync(tls.dir, { recursive: true, force: true });
    });

    it("with the CA it connects and publishes, by IP address and by host name", async () => {
      for (const host of ["127.0.0.1", "localhost"]) {
        const r = await openConnection({ url: `mqtts://${host}:${broker.port}`, ca: readFileSync(tls.ca) });
        const done: boolean[] = [];
        expect(r.conn.publish("tls/t", Buffer.from(host), 1, false, (ok) => done.push(ok))).toBe(true);
        await until("PUBACK over TLS", () => done.length === 1, 5000);
        expect(done).toEqual([true]);
        await r.conn.close(true);
        expect(r.closed).toEqual([{ error: undefined, wasOpen: true }]);
      }
    });

    it("without the CA the certificate cannot be verified: closed(error, false); rejectUnauthorized false accepts it", async () => {
      const r = record({ url: `mqtts://127.0.0.1:${broker.port}` });
      r.conn.start();
      await until("closed", () => r.closed.length > 0, 5000);
      expect(r.connacks).toEqual([]);
      expect(r.closed[0]?.wasOpen).toBe(false);
      expect(r.closed[0]?.error?.message).toMatch(/certificate/);
      expect(r.conn.state).toBe("failed");

      const lax = await openConnection({ url: `mqtts://127.0.0.1:${broker.port}`, rejectUnauthorized: false });
      await lax.conn.close(true);
    });

    it("a plain mqtt:// connection to the TLS port does not open", async () => {
      const r = record({ url: `mqtt://127.0.0.1:${broker.port}`, connectTimeoutMs: 1000 });
      r.conn.start();
      await until("closed", () => r.closed.length > 0, 5000);
      expect(r.connacks).toEqual([]);
      expect(r.closed[0]?.wasOpen).toBe(false);
    });
  },
);
