/**
 * The gateway under a hostile radio network and an unlucky operator: the real mqttsn-gateway command,
 * Mosquitto upstream, raw MQTT-SN datagrams over UDP. One describe per reliability finding; each test
 * states the correct behaviour (every message delivered, the process alive, no exception printed).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MsgType, ReturnCode, TopicIdType, type Bytes, type Message } from "../../protocol";
import { freeUdpPort, spawnGatewayCommand, startGatewayCommand, type StartedGateway } from "../support/gateway-command";
import { startMosquitto, type RunningMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { testMode } from "../support/upstream-mode";
import { Watcher } from "./helpers";
import { SleepyDevice } from "./sleepy-device";
import { UdpPeer } from "./udp-peer";

const runnable = systemHas(["mosquitto"], "sudo apt-get install -y mosquitto");

let mosquitto: RunningMosquitto;
let root: string;
let configs = 0;
const cleanup: Array<() => Promise<unknown>> = [];

function closeAfter<T extends { close(): Promise<unknown> }>(thing: T): T {
  cleanup.push(() => thing.close());
  return thing;
}

/**
 * The config of one gateway: no ADVERTISE, a session store of its own in the temporary directory
 * (never the default ./.data/sessions of the working directory), the rest as given.
 */
function gatewayConfig(config: { timers?: object; limits?: object; sleep?: object } & object): object {
  const n = ++configs;
  const { timers, sleep, ...rest } = config;
  return {
    ...rest,
    timers: { advertiseIntervalS: 0, ...timers },
    sleep: { store: { path: join(root, `store-${n}`) }, ...sleep },
  };
}

/** The real gateway on 127.0.0.1 with Mosquitto upstream; port 0 lets it choose (fixed: a restart serves the same address). */
async function start(
  config: object,
  options: { port?: number; logLevel?: "debug" | "info" | "warn" } = {},
): Promise<StartedGateway> {
  const gw = await startGatewayCommand({
    config,
    args: [
      "--udp",
      `127.0.0.1:${options.port ?? 0}`,
      "--broker",
      mosquitto.url,
      "--log-level",
      options.logLevel ?? "info",
    ],
  });
  cleanup.push(() => gw.stop("SIGKILL"));
  return gw;
}

async function watch(filter: string): Promise<Watcher> {
  return closeAfter(await Watcher.connect(mosquitto.url, filter));
}

async function publisher(name: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0, clientId: name });
  cleanup.push(() => client.endAsync(true));
  return client;
}

function connectMessage(clientId: string, options: { will?: boolean; duration?: number } = {}): Message {
  return {
    type: MsgType.Connect,
    will: options.will ?? false,
    cleanSession: true,
    duration: options.duration ?? 60,
    clientId,
  };
}

function willMsgUpd(text: string): Message {
  const data = Buffer.from(text);
  return { type: MsgType.WillMsgUpd, willMsg: data as unknown as Bytes, willMsgOffset: 0, willMsgLength: data.length };
}

/** CONNECT (with the will handshake when asked) and the CONNACK return code. */
async function connect(
  gw: StartedGateway,
  c: SnClient,
  clientId: string,
  options: { duration?: number; will?: { topic: string; message: string } } = {},
): Promise<number> {
  return gw.whileRunning(
    (async () => {
      c.send(connectMessage(clientId, { will: options.will !== undefined, duration: options.duration ?? 60 }));
      if (options.will !== undefined) {
        await c.expect(MsgType.WillTopicReq, 10_000);
        c.send({ type: MsgType.WillTopic, qos: 1, retain: false, willTopic: options.will.topic });
        await c.expect(MsgType.WillMsgReq, 10_000);
        const data = Buffer.from(options.will.message);
        c.send({
          type: MsgType.WillMsg,
          willMsg: data as unknown as Bytes,
          willMsgOffset: 0,
          willMsgLength: data.length,
        });
      }
      return (await c.expect(MsgType.ConnAck, 10_000)).returnCode;
    })(),
  );
}

/** A connected client publishes at QoS 1 on a registered topic: PUBACK 0x00 and the broker has it. */
async function publishesThrough(
  gw: StartedGateway,
  c: SnClient,
  watcher: Watcher,
  topic: string,
  payload: string,
): Promise<void> {
  const reg = await gw.whileRunning(c.register(topic));
  expect(reg.returnCode).toBe(ReturnCode.Accepted);
  const msgId = c.publish(reg.topicId, payload, { qos: 1 });
  const ack = await gw.whileRunning(c.expect(MsgType.PubAck, 10_000));
  expect({ msgId: ack.msgId, returnCode: ack.returnCode }).toEqual({ msgId, returnCode: ReturnCode.Accepted });
  await gw.whileRunning(watcher.waitFor((m) => m.topic === topic && m.payload === payload, 10_000));
}

/** The process runs, printed nothing but log records, and a new client is accepted. */
async function expectServing(gw: StartedGateway, clientId: string): Promise<void> {
  expect(gw.alive()).toBe(true);
  const fresh = closeAfter(await SnClient.open(gw.udp));
  expect(await connect(gw, fresh, clientId)).toBe(ReturnCode.Accepted);
  expect(gw.foreignOutput()).toEqual([]);
}

/** SIGTERM ends the gateway with exit code 0 and no exception printed. */
async function expectCleanStop(gw: StartedGateway): Promise<void> {
  expect(await gw.stop("SIGTERM")).toBe(0);
  expect(gw.foreignOutput()).toEqual([]);
}

/** Distinct payloads "prefix-000" … for counting what was lost and what came twice. */
function payloads(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
}

/** QoS 1/2 messages the gateway has taken into custody for a sleeping client so far (debug log "sleep-held"). */
function held(gw: StartedGateway, clientId: string, durableOnly = false): number {
  return gw
    .records()
    .filter((r) => r.event === "sleep-held" && r.clientId === clientId && (!durableOnly || r.durable === true)).length;
}

/** Reads whatever the gateway has sent the device until the line has been quiet for quietMs. */
async function drain(device: SleepyDevice, quietMs = 150): Promise<void> {
  while ((await device.next(quietMs)) !== undefined);
}

/**
 * A device that wakes and then stops listening: answers REGISTERs and the first `n` PUBLISHes (PUBACK),
 * then nothing more. Returns the payloads it acknowledged.
 */
async function acknowledgeThenFallSilent(device: SleepyDevice, n: number): Promise<string[]> {
  const acknowledged: string[] = [];
  while (acknowledged.length < n) {
    const m = await device.next(10_000);
    if (m === undefined) throw new Error(`the gateway sent nothing after ${acknowledged.length} messages`);
    if (m.type === MsgType.Register) {
      device.send({ type: MsgType.RegAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted });
    } else if (m.type === MsgType.Publish) {
      const data = (m.data as unknown as Uint8Array).subarray(m.dataOffset, m.dataOffset + m.dataLength);
      acknowledged.push(Buffer.from(data).toString());
      device.send({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted });
    }
  }
  return acknowledged;
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

describe.runIf(runnable)("reliability findings, real gateway process with Mosquitto", () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "mqttsn-reliability-"));
    mosquitto = await startMosquitto();
  });
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  afterAll(async () => {
    await mosquitto.stop();
    await rm(root, { recursive: true, force: true });
  });

  describe("finding 1: a CONNECT that replaces a connection whose upstream is still closing", () => {
    it.each([
      { third: "CONNECT of another client id from the same address", kind: "replace" },
      { third: "CONNECT of the same client id from another address", kind: "takeover" },
      { third: "DISCONNECT from the same address", kind: "end" },
    ])(
      "CONNECT a, CONNECT a again, then at once a $third: the gateway keeps serving",
      async ({ kind }) => {
        const gw = await start(gatewayConfig({}));
        const watcher = await watch("f1/#");
        const c = closeAfter(await SnClient.open(gw.udp));
        const a = `f1-${kind}-a`;
        expect(await connect(gw, c, a)).toBe(ReturnCode.Accepted);
        c.send(connectMessage(a));
        if (kind === "replace") {
          c.send(connectMessage(`f1-${kind}-b`));
          expect((await gw.whileRunning(c.expect(MsgType.ConnAck, 10_000))).returnCode).toBe(ReturnCode.Accepted);
          await publishesThrough(gw, c, watcher, "f1/replace", "f1-replace-by-b");
        } else if (kind === "takeover") {
          const elsewhere = closeAfter(await SnClient.open(gw.udp));
          elsewhere.send(connectMessage(a));
          const ack = await gw.whileRunning(elsewhere.expect(MsgType.ConnAck, 10_000));
          expect(ack.returnCode).toBe(ReturnCode.Accepted);
          await publishesThrough(gw, elsewhere, watcher, "f1/takeover", "f1-takeover-from-elsewhere");
        } else {
          c.send({ type: MsgType.Disconnect, duration: undefined });
          await gw.whileRunning(c.expect(MsgType.Disconnect, 10_000));
        }
        await expectServing(gw, `f1-${kind}-fresh`);
        await expectCleanStop(gw);
      },
      40_000,
    );
  });

  describe("finding 2: WILLTOPICUPD followed at once by WILLMSGUPD", () => {
    it("answers both updates three times in a row, and the broker publishes the updated will", async () => {
      const gw = await start(gatewayConfig({}));
      const watcher = await watch("f2/#");
      const clients: SnClient[] = [];
      for (let i = 1; i <= 3; i++) {
        const c = closeAfter(await SnClient.open(gw.udp));
        clients.push(c);
        // Keep-alive 2 s: once the client falls silent below, it is lost and its will published.
        expect(
          await connect(gw, c, `f2-${i}`, { duration: 2, will: { topic: `f2/will/${i}`, message: `f2-old-${i}` } }),
        ).toBe(ReturnCode.Accepted);
        c.send({ type: MsgType.WillTopicUpd, qos: 1, retain: false, willTopic: `f2/will/${i}/new` });
        c.send(willMsgUpd(`f2-new-${i}`));
        const topicResp = await gw.whileRunning(c.expect(MsgType.WillTopicResp, 10_000));
        const msgResp = await gw.whileRunning(c.expect(MsgType.WillMsgResp, 10_000));
        expect([topicResp.returnCode, msgResp.returnCode]).toEqual([ReturnCode.Accepted, ReturnCode.Accepted]);
      }
      // Silent clients: each is lost and the broker publishes the will as updated (topic and message).
      for (let i = 1; i <= 3; i++)
        await gw.whileRunning(
          watcher.waitFor((m) => m.topic === `f2/will/${i}/new` && m.payload === `f2-new-${i}`, 15_000),
        );
      expect(watcher.messages.filter((m) => m.payload.startsWith("f2-old-"))).toEqual([]);
      await expectServing(gw, "f2-fresh");
      await expectCleanStop(gw);
    }, 60_000);

    it("exits 0 on SIGTERM while the connection that carries the updated will is pending", async () => {
      const gw = await start(gatewayConfig({}));
      const c = closeAfter(await SnClient.open(gw.udp));
      expect(await connect(gw, c, "f2-term", { will: { topic: "f2/will/term", message: "f2-term-old" } })).toBe(
        ReturnCode.Accepted,
      );
      c.send({ type: MsgType.WillTopicUpd, qos: 1, retain: false, willTopic: "f2/will/term/new" });
      c.send(willMsgUpd("f2-term-new"));
      await expectCleanStop(gw);
    }, 30_000);
  });

  describe("finding 3: a sleeper whose buffer overflowed", () => {
    it("gets all 200 messages published while it slept through its following wakes, none lost", async () => {
      // Defaults: sleep.maxMessages 100.
      const gw = await start(gatewayConfig({}), { logLevel: "debug" });
      const clientId = "f3-sleeper";
      const device = closeAfter(await SleepyDevice.open(gw.udp, clientId));
      await gw.whileRunning(device.connectPersistent());
      await gw.whileRunning(device.subscribe("f3/#", 1));
      await gw.whileRunning(device.goToSleep(600));

      const sent = payloads("f3", 200);
      const pub = await publisher("f3-publisher");
      for (const p of sent) await pub.publishAsync("f3/data", p, { qos: 1 });
      // The buffer is full (sleep.maxMessages held); the broker still has the other 100 for the client.
      await gw.waitFor("a full sleep buffer for f3-sleeper", () => held(gw, clientId) >= 100, 30_000);

      const got = new Set<string>();
      let wakes = 0;
      const deadline = Date.now() + 40_000;
      while (got.size < sent.length && Date.now() < deadline) {
        for (const d of await gw.whileRunning(device.wake(20_000))) got.add(d.payload);
        wakes++;
        // The device sleeps a second between wakes.
        if (got.size < sent.length) await new Promise((r) => setTimeout(r, 1000));
      }
      const lost = sent.filter((p) => !got.has(p));
      console.log(
        `finding 3: ${got.size} of ${sent.length} delivered in ${wakes} wakes; lost ${lost.length}; duplicates ${device.duplicates}`,
      );
      expect(lost).toEqual([]);
      expect(gw.foreignOutput()).toEqual([]);
    }, 120_000);
  });

  describe("finding 5: a lost awake session keeps what it held", () => {
    it("an awake client that acknowledged 3 of 10 and fell silent gets the other 7 after it CONNECTs again", async () => {
      const gw = await start(gatewayConfig({ timers: { tRetryMs: 500, nRetry: 2 } }), { logLevel: "debug" });
      const clientId = "f5-awake";
      const watcher = await watch("wills/#");
      const device = closeAfter(await SleepyDevice.open(gw.udp, clientId));
      await gw.whileRunning(
        device.connectPersistent({ will: { topic: `wills/${clientId}`, message: `${clientId} lost` } }),
      );
      await gw.whileRunning(device.subscribe("f5a/#", 1));
      await gw.whileRunning(device.goToSleep(600));
      const sent = payloads("f5a", 10);
      const pub = await publisher("f5a-publisher");
      for (const p of sent) await pub.publishAsync("f5a/data", p, { qos: 1 });
      await gw.waitFor("10 messages held for f5-awake", () => held(gw, clientId) >= sent.length, 20_000);

      device.send({ type: MsgType.PingReq, clientId });
      const acknowledged = await gw.whileRunning(acknowledgeThenFallSilent(device, 3));
      // The gateway retries, gives the client up and the broker publishes its will.
      await gw.whileRunning(watcher.waitFor((m) => m.payload === `${clientId} lost`, 20_000));
      await drain(device);

      const after = await gw.whileRunning(device.reconnect(3000));
      const got = new Set([...acknowledged, ...after.map((d) => d.payload)]);
      expect(sorted(sent.filter((p) => !got.has(p)))).toEqual([]);
      expect(gw.foreignOutput()).toEqual([]);
    }, 60_000);

    it("a sleeper woken by a forged PINGREQ from its own address and lost gets its 5 messages after it CONNECTs again", async () => {
      const gw = await start(gatewayConfig({ timers: { tRetryMs: 500, nRetry: 2 } }), { logLevel: "debug" });
      const clientId = "f5-forged";
      const watcher = await watch("wills/#");
      const device = closeAfter(await SleepyDevice.open(gw.udp, clientId));
      await gw.whileRunning(
        device.connectPersistent({ will: { topic: `wills/${clientId}`, message: `${clientId} lost` } }),
      );
      await gw.whileRunning(device.subscribe("f5b/#", 1));
      await gw.whileRunning(device.goToSleep(600));
      const sent = payloads("f5b", 5);
      const pub = await publisher("f5b-publisher");
      for (const p of sent) await pub.publishAsync("f5b/data", p, { qos: 1 });
      await gw.waitFor("5 messages held for f5-forged", () => held(gw, clientId) >= sent.length, 20_000);

      // Forged from the sleeper's own source address: the sleeping device itself hears none of what follows.
      device.send({ type: MsgType.PingReq, clientId });
      await gw.whileRunning(watcher.waitFor((m) => m.payload === `${clientId} lost`, 20_000));
      await drain(device);

      const after = await gw.whileRunning(device.reconnect(3000));
      expect(sorted(new Set(after.map((d) => d.payload)))).toEqual(sent);
      expect(gw.foreignOutput()).toEqual([]);
    }, 60_000);
  });

  describe("finding 6: a late PUBACK from a sleeper restored after a restart", () => {
    it("is ignored: no will is published, and the client then wakes to its messages", async () => {
      const port = await freeUdpPort();
      const config = gatewayConfig({});
      const first = await start(config, { port, logLevel: "debug" });
      const clientId = "f6-sleeper";
      const will = `${clientId} lost`;
      const watcher = await watch("wills/#");
      const device = closeAfter(await SleepyDevice.open(first.udp, clientId));
      await first.whileRunning(device.connectPersistent({ will: { topic: `wills/${clientId}`, message: will } }));
      await first.whileRunning(device.subscribe("f6/#", 1));
      await first.whileRunning(device.goToSleep(600));
      const sent = payloads("f6", 5);
      const pub = await publisher("f6-publisher");
      for (const p of sent) await pub.publishAsync("f6/data", p, { qos: 1 });
      await first.waitFor("5 messages stored for f6-sleeper", () => held(first, clientId, true) >= sent.length, 20_000);

      expect(await first.stop("SIGKILL")).toBe(null);
      // The client's connection vanished with the process: its will is published once, by the broker at once
      // (transparent mode), or by the gateway as it starts again (aggregating mode: the gateway holds wills).
      if (testMode === "transparent") await watcher.waitFor((m) => m.payload === will, 10_000);
      const second = await start(config, { port, logLevel: "debug" });
      if (testMode === "aggregating") await watcher.waitFor((m) => m.payload === will, 10_000);

      device.send({ type: MsgType.PubAck, topicId: 1, msgId: 1, returnCode: ReturnCode.Accepted });
      const got = await second.whileRunning(device.wake(15_000));
      expect(sorted(got.map((d) => d.payload))).toEqual(sent);
      expect(watcher.count((m) => m.payload === will)).toBe(1);
      expect(second.foreignOutput()).toEqual([]);
      await expectCleanStop(second);
    }, 60_000);
  });

  describe("finding 7: wildcards in topic names never reach the broker", () => {
    it("drops a QoS -1 PUBLISH on the short topic '#a' and still forwards later QoS -1 publishes", async () => {
      const gw = await start(gatewayConfig({}));
      const watcher = await watch("#");
      const c = closeAfter(await SnClient.open(gw.udp));
      const short = (name: string): number => name.charCodeAt(0) * 256 + name.charCodeAt(1);
      c.publish(short("ab"), "f7-before", { qos: -1, topicIdType: TopicIdType.Short });
      await gw.whileRunning(watcher.waitFor((m) => m.payload === "f7-before", 10_000));

      c.publish(short("#a"), "f7-wildcard", { qos: -1, topicIdType: TopicIdType.Short });
      const after = payloads("f7-after", 5);
      for (const p of after) c.publish(short("ab"), p, { qos: -1, topicIdType: TopicIdType.Short });
      for (const p of after) await gw.whileRunning(watcher.waitFor((m) => m.payload === p, 10_000));
      expect(watcher.messages.filter((m) => m.topic.includes("#") || m.payload === "f7-wildcard")).toEqual([]);
      await expectServing(gw, "f7-fresh");
    }, 40_000);

    it("answers REGISTER of a topic name with a wildcard with REGACK 0x03 (not supported)", async () => {
      const gw = await start(gatewayConfig({}));
      const watcher = await watch("f7/#");
      const c = closeAfter(await SnClient.open(gw.udp));
      expect(await connect(gw, c, "f7-register")).toBe(ReturnCode.Accepted);
      for (const name of ["a/+/b", "f7/#"]) {
        const ack = await gw.whileRunning(c.register(name));
        expect({ name, returnCode: ack.returnCode }).toEqual({ name, returnCode: ReturnCode.NotSupported });
      }
      await publishesThrough(gw, c, watcher, "f7/after-register", "f7-register-ok");
    }, 30_000);

    it("answers a QoS 1 PUBLISH on the short topic 'a+' with PUBACK 0x03 and drops the QoS 0 one", async () => {
      const gw = await start(gatewayConfig({}));
      const watcher = await watch("#");
      const c = closeAfter(await SnClient.open(gw.udp));
      expect(await connect(gw, c, "f7-short")).toBe(ReturnCode.Accepted);
      const wildcard = "a".charCodeAt(0) * 256 + "+".charCodeAt(0);
      c.publish(wildcard, "f7-short-qos0", { qos: 0, topicIdType: TopicIdType.Short });
      const msgId = c.publish(wildcard, "f7-short-qos1", { qos: 1, topicIdType: TopicIdType.Short });
      const ack = await gw.whileRunning(c.expect(MsgType.PubAck, 10_000));
      expect({ msgId: ack.msgId, returnCode: ack.returnCode }).toEqual({ msgId, returnCode: ReturnCode.NotSupported });
      // The session goes on: a valid publish after them arrives, and the wildcard ones never did.
      await publishesThrough(gw, c, watcher, "f7/after-short", "f7-short-ok");
      expect(watcher.messages.filter((m) => m.payload.startsWith("f7-short-qos"))).toEqual([]);
      expect(c.pending().filter((m) => m.type === MsgType.Disconnect)).toEqual([]);
      await expectServing(gw, "f7-short-fresh");
    }, 30_000);

    it.each([
      { table: { global: { "a/+/b": 1 } }, key: "predefinedTopics.global.a/+/b" },
      { table: { clients: { "node-7": { "node-7/#": 2 } } }, key: "predefinedTopics.clients.node-7.node-7/#" },
    ])(
      "refuses to start with a predefined topic name holding a wildcard ($key)",
      async ({ table, key }) => {
        const run = await spawnGatewayCommand({
          args: ["--udp", "127.0.0.1:0", "--broker", mosquitto.url],
          config: { predefinedTopics: table },
        });
        cleanup.push(() => run.stop("SIGKILL"));
        expect(await run.exited).not.toBe(0);
        expect(run.stderr()).toContain(key);
        expect(run.stdout()).not.toContain("ready");
      },
      30_000,
    );
  });

  describe("finding 8: handshakes that never finish hold no slots", () => {
    /** `n` sockets on 127.0.0.1, each sending a CONNECT; returns them once each has a first reply. */
    async function flood(gw: StartedGateway, n: number, prefix: string, will: boolean): Promise<UdpPeer[]> {
      const peers: UdpPeer[] = [];
      for (let i = 0; i < n; i++) peers.push(closeAfter(await UdpPeer.open(gw.udp)));
      peers.forEach((p, i) => p.send(connectMessage(`${prefix}-${i}`, { will })));
      for (const p of peers) await gw.whileRunning(p.first(() => true, 15_000));
      return peers;
    }

    function firstReply(p: UdpPeer): Message {
      return p.received[0] as Message;
    }

    it("half-open will handshakes from one address leave a client from another address served", async () => {
      const maxClients = 30;
      const gw = await start(gatewayConfig({ limits: { maxClients }, timers: { willHandshakeTimeoutMs: 60_000 } }));
      const attackers = await flood(gw, maxClients, "f8-half-open", true);
      // The attacker sends its CONNECTs again instead of answering WILLTOPICREQ.
      attackers.forEach((p, i) => p.send(connectMessage(`f8-half-open-${i}`, { will: true })));
      const other = closeAfter(await UdpPeer.open(gw.udp, "127.0.0.2"));
      other.send(connectMessage("f8-other-source"));
      const ack = await gw.whileRunning(other.first((m) => m.type === MsgType.ConnAck, 15_000));
      expect(ack).toEqual({ type: MsgType.ConnAck, returnCode: ReturnCode.Accepted });
      expect(gw.foreignOutput()).toEqual([]);
    }, 40_000);

    it("answers a CONNECT past limits.maxHandshakesPerSource with CONNACK 0x01, and frees the slot when a handshake completes", async () => {
      const gw = await start(
        gatewayConfig({ limits: { maxHandshakesPerSource: 8, maxConnectsPerSecondPerSource: 1000 } }),
      );
      const open = await flood(gw, 8, "f8-handshake", true);
      expect(open.map((p) => firstReply(p).type)).toEqual(Array(8).fill(MsgType.WillTopicReq));
      const [ninth] = await flood(gw, 1, "f8-handshake-ninth", true);
      expect(firstReply(ninth as UdpPeer)).toEqual({ type: MsgType.ConnAck, returnCode: ReturnCode.Congestion });

      // One handshake completes: its slot is free for the next CONNECT from that address.
      const done = open[0] as UdpPeer;
      done.send({ type: MsgType.WillTopic, qos: 0, retain: false, willTopic: "f8/will" });
      await gw.whileRunning(done.first((m) => m.type === MsgType.WillMsgReq, 10_000));
      const data = Buffer.from("f8 will");
      done.send({
        type: MsgType.WillMsg,
        willMsg: data as unknown as Bytes,
        willMsgOffset: 0,
        willMsgLength: data.length,
      });
      const accepted = await gw.whileRunning(done.first((m) => m.type === MsgType.ConnAck, 10_000));
      expect(accepted).toEqual({ type: MsgType.ConnAck, returnCode: ReturnCode.Accepted });
      const [tenth] = await flood(gw, 1, "f8-handshake-tenth", true);
      expect(firstReply(tenth as UdpPeer).type).toBe(MsgType.WillTopicReq);

      const other = closeAfter(await UdpPeer.open(gw.udp, "127.0.0.2"));
      other.send(connectMessage("f8-handshake-other"));
      const ack = await gw.whileRunning(other.first((m) => m.type === MsgType.ConnAck, 15_000));
      expect(ack).toEqual({ type: MsgType.ConnAck, returnCode: ReturnCode.Accepted });
    }, 40_000);

    it("answers CONNECTs past limits.maxConnectsPerSecondPerSource with CONNACK 0x01, other addresses still served", async () => {
      const perSecond = 16;
      const gw = await start(
        gatewayConfig({ limits: { maxHandshakesPerSource: 1000, maxConnectsPerSecondPerSource: perSecond } }),
      );
      const burst = 40;
      const peers = await flood(gw, burst, "f8-rate", false);
      const codes = peers.map((p) => {
        const reply = firstReply(p);
        return reply.type === MsgType.ConnAck ? reply.returnCode : -1;
      });
      const refused = codes.filter((c) => c === ReturnCode.Congestion).length;
      const accepted = codes.filter((c) => c === ReturnCode.Accepted).length;
      console.log(`finding 8: a burst of ${burst} CONNECTs from one address: ${accepted} accepted, ${refused} refused`);
      expect(accepted + refused).toBe(burst);
      // The burst may straddle the start of a new second: at most two seconds' worth is accepted.
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThanOrEqual(2 * perSecond);

      const other = closeAfter(await UdpPeer.open(gw.udp, "127.0.0.2"));
      other.send(connectMessage("f8-rate-other"));
      const ack = await gw.whileRunning(other.first((m) => m.type === MsgType.ConnAck, 15_000));
      expect(ack).toEqual({ type: MsgType.ConnAck, returnCode: ReturnCode.Accepted });
    }, 40_000);
  });
});
