// Publish rates of the gateway's upstream connection (gateway/upstream/connection.ts) against the
// embedded aedes broker (in a child process of its own) and Mosquitto, with mqtt.js measured the same
// way for comparison: several connections publish from one process, QoS 0 as fast as the write
// backlog allows (a QoS 1 publish at the end, acknowledged once the broker has read everything before
// it), QoS 1 with a window of unacknowledged messages per connection. Also the CPU time this process
// spent per message, and the two ways mqtt-packet encodes (generate, writeToStream) side by side.
// Prints figures and never fails on time.
//
//   npm run bench:upstream   (or: npx tsx bench/upstream-connection.ts [--messages 200000] [--connections 10])
import { fork } from "node:child_process";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { generate, writeToStream, type IPublishPacket } from "mqtt-packet";
import { startEmbeddedBroker } from "../gateway/broker/embedded";
import { MqttConnection } from "../gateway/upstream/connection";
import { startMosquitto } from "../test/support/mosquitto";
import { hasCommand } from "../test/support/system";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "200000" },
    connections: { type: "string", default: "10" },
    /** QoS 1 messages awaiting PUBACK per connection. */
    window: { type: "string", default: "100" },
    /** QoS 0 publishes per connection per event-loop turn, as the gateway forwards a turn's datagrams. */
    batch: { type: "string", default: "200" },
    /** Internal: run the embedded broker in this process and report its URL to the parent. */
    "serve-embedded": { type: "boolean", default: false },
  },
});
const MESSAGES = Number(args.messages);
const CONNECTIONS = Number(args.connections);
const WINDOW = Number(args.window);
const BATCH = Number(args.batch);
const PAYLOAD = Buffer.alloc(16, 0x42);
const MAX_BUFFERED_OCTETS = 1024 * 1024;

/** One client library under test, reduced to what the gateway does with it. */
interface Publisher {
  /** false: the write backlog is full, try again next turn. */
  publish0(topic: string): boolean;
  publish1(topic: string, done: () => void): void;
  close(): Promise<void>;
}

type Client = (url: string, clientId: string) => Promise<Publisher>;

const ours: Client = (url, clientId) =>
  new Promise((resolve, reject) => {
    const conn: MqttConnection = new MqttConnection(
      { url, clientId, clean: true, keepAlive: 60, connectTimeoutMs: 10_000, maxBufferedOctets: MAX_BUFFERED_OCTETS },
      {
        connack: (code) =>
          code === 0
            ? resolve({
                publish0: (topic) => conn.publish(topic, PAYLOAD, 0, false),
                publish1: (topic, done) => void conn.publish(topic, PAYLOAD, 1, false, done),
                close: () => conn.close(true),
              })
            : reject(new Error(`CONNACK ${code}`)),
        message: () => {},
        closed: (error) => {
          if (error !== undefined) reject(error);
        },
      },
    );
    conn.start();
  });

const QOS0 = Object.freeze({ qos: 0 as const, retain: false });
const QOS1 = Object.freeze({ qos: 1 as const, retain: false });
const mqttjs: Client = async (url, clientId) => {
  const client: MqttClient = await mqtt.connectAsync(url, {
    clientId,
    reconnectPeriod: 0,
    keepalive: 60,
    log: () => {},
  });
  const stream = client.stream as unknown as { writableLength: number };
  return {
    publish0: (topic) => {
      if (stream.writableLength > MAX_BUFFERED_OCTETS) return false;
      client.publish(topic, PAYLOAD, QOS0);
      return true;
    },
    publish1: (topic, done) => void client.publish(topic, PAYLOAD, QOS1, () => done()),
    close: () => client.endAsync(),
  };
};

async function qos0(pubs: Publisher[], total: number): Promise<void> {
  const each = Math.ceil(total / pubs.length);
  await Promise.all(
    pubs.map(
      (p, i) =>
        new Promise<void>((resolve) => {
          const topic = `bench/${i}`;
          let sent = 0;
          const turn = (): void => {
            for (let n = 0; n < BATCH && sent < each; n++, sent++) if (!p.publish0(topic)) break;
            if (sent < each) setImmediate(turn);
            else p.publish1(topic, resolve);
          };
          turn();
        }),
    ),
  );
}

async function qos1(pubs: Publisher[], total: number): Promise<void> {
  const each = Math.ceil(total / pubs.length);
  await Promise.all(
    pubs.map(
      (p, i) =>
        new Promise<void>((resolve) => {
          const topic = `bench/${i}`;
          let sent = 0;
          let acked = 0;
          const next = (): void => {
            if (sent >= each) return;
            sent++;
            p.publish1(topic, () => {
              if (++acked === each) resolve();
              else next();
            });
          };
          for (let w = 0; w < WINDOW; w++) next();
        }),
    ),
  );
}

interface Figure {
  rate: number;
  cpuUsPerMsg: number;
}

async function measure(run: (pubs: Publisher[], total: number) => Promise<void>, pubs: Publisher[]): Promise<Figure> {
  await run(pubs, Math.min(20_000, MESSAGES)); // warm-up
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await run(pubs, MESSAGES);
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  return { rate: MESSAGES / seconds, cpuUsPerMsg: (used.user + used.system) / MESSAGES };
}

/** The embedded broker in a child process, so that broker and clients do not share one thread. */
async function embeddedInChild(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = fork(process.argv[1] as string, ["--serve-embedded"], {
    execArgv: ["--import", "tsx"],
    stdio: "inherit",
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (m: { url: string }) => resolve(m.url));
    child.once("exit", (code) => reject(new Error(`embedded broker exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

function encodingRates(): string[] {
  const packet: IPublishPacket = {
    cmd: "publish",
    topic: "bench/encode",
    payload: PAYLOAD,
    qos: 0,
    dup: false,
    retain: false,
  };
  const sink = new Writable({
    writev: (_chunks, cb) => cb(),
    write: (_chunk, _enc, cb) => cb(),
  });
  const n = 200_000;
  /** n packets written in turns of BATCH, each turn corked as the connection does. */
  const time = (write: () => void): number => {
    const t0 = performance.now();
    for (let i = 0; i < n; i += BATCH) {
      sink.cork();
      for (let j = 0; j < BATCH; j++) write();
      sink.uncork();
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const viaGenerate = (): void => void sink.write(generate(packet));
  const viaStream = (): void => void writeToStream(packet, sink);
  time(viaGenerate);
  time(viaStream);
  const gen = time(viaGenerate);
  const wts = time(viaStream);
  return [`QoS 0 PUBLISH into a corked stream: generate + write ${fmt(gen)}/s, writeToStream ${fmt(wts)}/s`];
}

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");

async function main(): Promise<void> {
  console.log(
    `${MESSAGES.toLocaleString("en-US")} messages of ${PAYLOAD.length} octets over ${CONNECTIONS} connections; QoS 1 window ${WINDOW} per connection`,
  );
  for (const line of encodingRates()) console.log(line);

  const brokers: Array<{ name: string; start(): Promise<{ url: string; stop(): Promise<void> }> }> = [
    { name: "embedded aedes", start: embeddedInChild },
  ];
  if (hasCommand("mosquitto")) brokers.push({ name: "mosquitto", start: () => startMosquitto() });
  else console.log("mosquitto not installed: only the embedded broker is measured");
  const clients: Array<[string, Client]> = [
    ["MqttConnection", ours],
    ["mqtt.js", mqttjs],
  ];

  console.log("");
  console.log("broker          client           QoS 0 msg/s  CPU µs/msg   QoS 1 msg/s  CPU µs/msg");
  for (const b of brokers) {
    const broker = await b.start();
    try {
      for (const [name, client] of clients) {
        const pubs = await Promise.all(
          Array.from({ length: CONNECTIONS }, (_, i) => client(broker.url, `bench-${name}-${i}`)),
        );
        const q0 = await measure(qos0, pubs);
        const q1 = await measure(qos1, pubs);
        await Promise.all(pubs.map((p) => p.close()));
        console.log(
          `${b.name.padEnd(16)}${name.padEnd(17)}${fmt(q0.rate).padStart(11)}${q0.cpuUsPerMsg.toFixed(2).padStart(12)}${fmt(q1.rate).padStart(14)}${q1.cpuUsPerMsg.toFixed(2).padStart(12)}`,
        );
      }
    } finally {
      await broker.stop();
    }
  }
}

if (args["serve-embedded"]) {
  const broker = await startEmbeddedBroker(0);
  process.send?.({ url: broker.url });
  process.once("SIGTERM", () => void broker.close().then(() => process.exit(0)));
} else {
  await main();
}
