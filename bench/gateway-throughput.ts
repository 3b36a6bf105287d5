// Gateway throughput and added latency: 100 MQTT-SN clients over UDP publish through the gateway (in its
// own process, so its CPU and RSS are its own) to Mosquitto; an mqtt.js subscriber counts what arrives.
// Prints figures and never fails on time.
//
//   npm run bench:gateway      (or: npx tsx bench/gateway-throughput.ts [--clients 100] [--seconds 5])
import { fork, spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../protocol";
import { ensureGatewayBundle } from "../test/support/gateway-bundle";
import { startMosquitto } from "../test/support/mosquitto";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "100" },
    seconds: { type: "string", default: "5" },
    rates: { type: "string", default: "20000,40000,50000,60000" },
    /** Run the baseline (bench/gateway-bare-forwarder.ts) in place of the gateway, for comparison. */
    bare: { type: "boolean", default: false },
    /** Directory for a V8 CPU profile of the gateway process (node --cpu-prof). */
    profile: { type: "string" },
  },
});
const CLIENTS = Number(args.clients);
const SECONDS = Number(args.seconds);
const RATES = (args.rates as string).split(",").map(Number);
const PAYLOAD = 16; // 8 octets send time (µs), 8 octets sequence

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function frame(m: Message): Buffer {
  const b = Buffer.allocUnsafe(encodingLength(m));
  encode(m, b as unknown as Bytes, 0);
  return b;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in 1/100 s
}

/** Nanoseconds the gateway's main thread has waited on a run queue for a CPU (/proc/PID/schedstat, 2nd field). */
function runQueueWaitNs(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? NaN : Number(m[1]) / 1024;
}

/** Datagrams the kernel dropped because a UDP receive buffer was full (all sockets of this machine). */
function udpRcvbufErrors(): number {
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = (lines[0] ?? "").split(/\s+/);
  const values = (lines[1] ?? "").split(/\s+/);
  return Number(values[names.indexOf("RcvbufErrors")]);
}

/** Datagrams dropped at the gateway's own UDP socket (the "drops" column of /proc/net/udp). */
function gatewaySocketDrops(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] !== undefined && cols[1].endsWith(`:${hexPort}`)) return Number(cols[cols.length - 1]);
  }
  return NaN;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

class BenchClient {
  topicIds = new Map<string, number>();
  private waiting = new Map<string, (m: Message) => void>();
  acked = 0;
  onPubAck: (() => void) | undefined;
  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on("message", (buf) => {
      const m = decode(buf as unknown as Bytes, 0, buf.length);
      if (m.type === "error") return;
      if (m.type === MsgType.PubAck) {
        this.acked++;
        if (this.onPubAck !== undefined) this.onPubAck();
        return;
      }
      const key = m.type === MsgType.RegAck ? `regack:${m.msgId}` : `type:${m.type}`;
      const w = this.waiting.get(key);
      if (w !== undefined) {
        this.waiting.delete(key);
        w(m);
      }
    });
  }
  static async open(port: number): Promise<BenchClient> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    // A connected socket sends without an address lookup per datagram.
    await new Promise<void>((r) => s.connect(port, "127.0.0.1", () => r()));
    s.setSendBufferSize(1 << 20);
    return new BenchClient(s, port);
  }
  send(b: Buffer): void {
    this.socket.send(b);
  }
  wait(key: string): Promise<Message> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timeout waiting for ${key}`)), 10_000);
      this.waiting.set(key, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }
  async connect(clientId: string): Promise<void> {
    const p = this.wait(`type:${MsgType.ConnAck}`);
    this.send(frame({ type: MsgType.Connect, will: false, cleanSession: true, duration: 600, clientId }));
    const ack = (await p) as { returnCode: number };
    if (ack.returnCode !== 0) throw new Error(`CONNACK ${ack.returnCode} for ${clientId}`);
  }
  async register(name: string, msgId: number): Promise<void> {
    const p = this.wait(`regack:${msgId}`);
    this.send(frame({ type: MsgType.Register, topicId: 0, msgId, topicName: name }));
    const ack = (await p) as { topicId: number };
    this.topicIds.set(name, ack.topicId);
  }
  private templates = new Map<string, Buffer>();
  /** A PUBLISH from a per-topic template: copy, then patch msgId, send time and sequence. */
  publishFrame(topic: string, qos: 0 | 1, msgId: number, seq: number): Buffer {
    let t = this.templates.get(topic + qos);
    if (t === undefined) {
      const data = Buffer.alloc(PAYLOAD);
      t = frame({
        type: MsgType.Publish,
        dup: false,
        qos,
        retain: false,
        topicIdType: 0,
        topicId: this.topicIds.get(topic) as number,
        msgId: 0,
        data: data as unknown as Bytes,
        dataOffset: 0,
        dataLength: PAYLOAD,
      });
      this.templates.set(topic + qos, t);
    }
    const b = Buffer.from(t);
    b.writeUInt16BE(msgId, 5);
    b.writeDoubleBE(nowUs(), 7);
    b.writeDoubleBE(seq, 15);
    return b;
  }
  close(): void {
    this.socket.close();
  }
}

async function main(): Promise<void> {
  const mosquitto = await startMosquitto(["max_queued_messages 1000000", "max_inflight_messages 0"]);
  const dir = mkdtempSync(join(tmpdir(), "gwbench-"));
  const configFile = join(dir, "gateway.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      // Every benchmark client is on 127.0.0.1: one source for the per-source CONNECT limits.
      limits: {
        maxClients: 10_000,
        maxInflight: 1000,
        maxHandshakesPerSource: 10_000,
        maxConnectsPerSecondPerSource: 100_000,
      },
      timers: { advertiseIntervalS: 0 },
    }),
  );
  const profileArgs = args.profile !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${args.profile}`] : [];
  if (!args.bare) ensureGatewayBundle();
  const gw = args.bare
    ? spawn(process.execPath, [...profileArgs, "--import", "tsx", "bench/gateway-bare-forwarder.ts", mosquitto.url], {
        stdio: ["ignore", "pipe", "inherit"],
      })
    : spawn(
        process.execPath,
        [
          ...profileArgs,
          "bin/mqttsn-gateway.js",
          "--udp",
          "127.0.0.1:0",
          "--broker",
          mosquitto.url,
          "--config",
          configFile,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
  let out = "";
  gw.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  while (!/ready/.test(out)) await sleep(50);
  const udpPort = Number(/udp [\d.]+:(\d+)/.exec(out)?.[1]);
  const pid = gw.pid as number;

  // The subscriber runs in its own process (bench/gateway-subscriber.ts).
  const sub: ChildProcess = fork("bench/gateway-subscriber.ts", [mosquitto.url], { execArgv: ["--import", "tsx"] });
  const replies: Array<(m: Record<string, unknown>) => void> = [];
  sub.on("message", (m: Record<string, unknown>) => {
    if (m.ready === true) return;
    const r = replies.shift();
    if (r !== undefined) r(m);
  });
  await new Promise<void>((resolve) => sub.once("message", () => resolve()));
  const ask = <T>(cmd: string): Promise<T> =>
    new Promise((resolve) => {
      replies.push((m) => resolve(m as T));
      sub.send({ cmd });
    });
  const count = async (phase: string): Promise<number> =>
    (await ask<{ counts: Record<string, number> }>("counts")).counts[phase] ?? 0;

  const clients: BenchClient[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await BenchClient.open(udpPort));
  await Promise.all(clients.map((c, i) => c.connect(`bench-${i}`)));
  const phases = [...RATES.map((r) => `q0r${r}`), "q1", "lat"];
  await Promise.all(
    clients.map(async (c, i) => {
      let id = 1;
      for (const p of phases) await c.register(`bench/${p}/${i}`, id++);
    }),
  );
  console.log(
    `load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} on ${(await import("node:os")).cpus().length} cores (other work on the machine skews every figure)`,
  );
  if (args.bare) console.log("BASELINE: the bare forwarder (dgram → mqtt.js), not the gateway");
  console.log(
    `gateway pid ${pid}, ${CLIENTS} clients connected, Mosquitto ${mosquitto.url}; RSS after connect ${rssMb(pid).toFixed(1)} MB`,
  );
  console.log("");

  /** Sends QoS 0 at `rate` messages/s for SECONDS, round-robin over the clients, paced every millisecond. */
  async function paced(phase: string, rate: number): Promise<{ sent: number; elapsed: number }> {
    const total = rate * SECONDS;
    const start = nowUs();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((nowUs() - start) / 1e6) * rate));
      while (sent < due) {
        const c = clients[sent % CLIENTS] as BenchClient;
        c.send(c.publishFrame(`bench/${phase}/${sent % CLIENTS}`, 0, 0, sent));
        sent++;
      }
      await new Promise((r) => setImmediate(r));
    }
    return { sent, elapsed: (nowUs() - start) / 1e6 };
  }

  async function settle(phase: string, expected: number): Promise<number> {
    const deadline = Date.now() + 5000;
    let got = await count(phase);
    while (got < expected && Date.now() < deadline) {
      await sleep(100);
      got = await count(phase);
    }
    return got;
  }

  console.log("QoS 0, paced (messages/s offered → delivered to the subscriber):");
  for (const rate of RATES) {
    const phase = `q0r${rate}`;
    const t0 = cpuTicks(pid);
    const drops0 = udpRcvbufErrors();
    const own0 = gatewaySocketDrops(udpPort);
    const wait0 = runQueueWaitNs(pid);
    const w0 = Date.now();
    const { sent, elapsed } = await paced(phase, rate);
    // CPU and run-queue figures over the sending time plus a short drain, not the wait for stragglers.
    await sleep(300);
    const cpuSeconds = (cpuTicks(pid) - t0) / 100;
    const wall = (Date.now() - w0) / 1000;
    const cpu = cpuSeconds / wall;
    const waited = (runQueueWaitNs(pid) - wait0) / 1e9 / wall;
    const got = await settle(phase, sent);
    console.log(
      `  offered ${rate.toLocaleString("en")}/s: sent ${sent} in ${elapsed.toFixed(2)} s, delivered ${got} (${(got / elapsed).toFixed(0)}/s), loss ${(((sent - got) / sent) * 100).toFixed(2)}% (dropped at the gateway's UDP socket ${gatewaySocketDrops(udpPort) - own0}, on all UDP sockets of the machine ${udpRcvbufErrors() - drops0}), gateway CPU ${(cpu * 100).toFixed(0)}% (ready but waiting for a CPU ${(waited * 100).toFixed(0)}% of the time), ${((cpuSeconds / got) * 1e6).toFixed(1)} µs CPU per message (one full core ≈ ${(got / cpuSeconds).toFixed(0)}/s), RSS ${rssMb(pid).toFixed(1)} MB`,
    );
    await sleep(500);
  }

  // QoS 1: each client keeps WINDOW publishes awaiting PUBACK.
  const WINDOW = 8;
  {
    const t0 = cpuTicks(pid);
    const start = nowUs();
    const end = start + SECONDS * 1e6;
    let sent = 0;
    let acked = 0;
    await new Promise<void>((resolve) => {
      let active = CLIENTS;
      clients.forEach((c, i) => {
        let msgId = 1;
        let outstanding = 0;
        const fire = (): void => {
          while (outstanding < WINDOW && nowUs() < end) {
            c.send(c.publishFrame(`bench/q1/${i}`, 1, msgId, sent++));
            msgId = msgId >= 0xffff ? 1 : msgId + 1;
            outstanding++;
          }
          if (outstanding === 0 && --active === 0) resolve();
        };
        c.onPubAck = () => {
          outstanding--;
          acked++;
          fire();
        };
        fire();
      });
      setTimeout(resolve, SECONDS * 1000 + 5000);
    });
    const elapsed = (nowUs() - start) / 1e6;
    const got = await settle("q1", sent);
    const cpuSeconds = (cpuTicks(pid) - t0) / 100;
    const cpu = cpuSeconds / elapsed;
    console.log("");
    console.log(
      `QoS 1, ${WINDOW} in flight per client: ${acked} PUBACKs in ${elapsed.toFixed(2)} s = ${(acked / elapsed).toFixed(0)}/s acknowledged; delivered ${got}, lost ${sent - got}; gateway CPU ${(cpu * 100).toFixed(0)}%, ${((cpuSeconds / acked) * 1e6).toFixed(1)} µs CPU per message (one full core ≈ ${(acked / cpuSeconds).toFixed(0)}/s), RSS ${rssMb(pid).toFixed(1)} MB`,
    );
    for (const c of clients) c.onPubAck = undefined;
  }

  // Latency at a fixed 10,000 messages/s: through the gateway, and the bare path (mqtt.js → Mosquitto).
  const LAT_RATE = 10_000;
  sub.send({ cmd: "latency-start" });
  await paced("lat", LAT_RATE);
  await settle("lat", LAT_RATE * SECONDS);
  const via = (await ask<{ latencies: number[] }>("latency-stop")).latencies.sort((a, b) => a - b);
  sub.send({ cmd: "latency-start" });
  const direct = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0 });
  {
    const total = LAT_RATE * SECONDS;
    const start = nowUs();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((nowUs() - start) / 1e6) * LAT_RATE));
      while (sent < due) {
        const data = Buffer.allocUnsafe(PAYLOAD);
        data.writeDoubleBE(nowUs(), 0);
        data.writeDoubleBE(sent, 8);
        direct.publish(`bench/latdirect/0`, data, { qos: 0 });
        sent++;
      }
      await new Promise((r) => setImmediate(r));
    }
    await sleep(1000);
  }
  const bare = (await ask<{ latencies: number[] }>("latency-stop")).latencies.sort((a, b) => a - b);
  console.log("");
  console.log(
    `Latency at ${LAT_RATE.toLocaleString("en")} QoS 0 messages/s, send → subscriber, µs (${via.length} and ${bare.length} samples):`,
  );
  console.log(`  through the gateway: p50 ${percentile(via, 50)}  p99 ${percentile(via, 99)}`);
  console.log(`  bare mqtt.js → Mosquitto: p50 ${percentile(bare, 50)}  p99 ${percentile(bare, 99)}`);
  console.log(
    `  added by the gateway (UDP hop + gateway): p50 ${percentile(via, 50) - percentile(bare, 50)}  p99 ${percentile(via, 99) - percentile(bare, 99)}`,
  );

  await direct.endAsync();
  for (const c of clients) c.close();
  sub.send({ cmd: "exit" });
  await new Promise((r) => sub.once("exit", r));
  gw.kill("SIGTERM");
  await new Promise((r) => gw.once("exit", r));
  await mosquitto.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
