// Gateway throughput and added latency: 100 MQTT-SN clients over UDP publish through the gateway (in its
// own process, so its CPU and RSS are its own) to Mosquitto; an mqtt.js subscriber counts what arrives.
// Prints figures and never fails on time.
//
//   npm run bench:gateway      (or: npx tsx bench/gateway-throughput.ts [--clients 100] [--seconds 5])
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import mqtt from "mqtt";
import { ensureGatewayBundle } from "../test/support/gateway-bundle";
import { startMosquitto } from "../test/support/mosquitto";
import { cpuTicks, percentile, rssMb, sleep } from "./support/proc";
import { describeRate, measureRate, offerQos0, settleCount, startCountingSubscriber } from "./support/qos0-forwarding";
import { BenchClient, nowUs, PAYLOAD } from "./support/sn-client";

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
  const sub = await startCountingSubscriber(mosquitto.url);

  const clients: BenchClient[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await BenchClient.open(udpPort, 1 << 20));
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

  console.log("QoS 0, paced (messages/s offered → delivered to the subscriber):");
  for (const rate of RATES) {
    console.log(`  ${describeRate(await measureRate(clients, sub, { pid, udpPort }, rate, SECONDS))}`);
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
    const got = await settleCount(sub, "q1", sent);
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
  sub.latencyStart();
  await offerQos0(clients, "lat", LAT_RATE, SECONDS);
  await settleCount(sub, "lat", LAT_RATE * SECONDS);
  const via = (await sub.latencyStop()).sort((a, b) => a - b);
  sub.latencyStart();
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
  const bare = (await sub.latencyStop()).sort((a, b) => a - b);
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
  await sub.close();
  gw.kill("SIGTERM");
  await new Promise((r) => gw.once("exit", r));
  await mosquitto.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
