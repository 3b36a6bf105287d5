// QoS 0 forwarding under a paced load: devices publish round-robin at a fixed rate through the gateway to the
// broker, where the counting subscriber (bench/gateway-subscriber.ts, its own process) counts what arrives.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cpuTicks, runQueueWaitNs, rssMb, sleep, udpRcvbufErrors, udpSocketDrops } from "./proc";
import { nowUs, type BenchClient } from "./sn-client";

const SUBSCRIBER = fileURLToPath(new URL("../gateway-subscriber.ts", import.meta.url));

/** The counting subscriber's process: messages per phase (bench/<phase>/…), latencies when asked. */
export interface CountingSubscriber {
  count(phase: string): Promise<number>;
  latencyStart(): void;
  latencyStop(): Promise<number[]>;
  close(): Promise<void>;
}

export async function startCountingSubscriber(brokerUrl: string): Promise<CountingSubscriber> {
  const sub: ChildProcess = fork(SUBSCRIBER, [brokerUrl], { execArgv: ["--import", "tsx"] });
  const replies: Array<(m: Record<string, unknown>) => void> = [];
  await new Promise<void>((resolve) => sub.once("message", () => resolve()));
  sub.on("message", (m: Record<string, unknown>) => {
    const r = replies.shift();
    if (r !== undefined) r(m);
  });
  const ask = <T>(cmd: string): Promise<T> =>
    new Promise((resolve) => {
      replies.push((m) => resolve(m as T));
      sub.send({ cmd });
    });
  return {
    count: async (phase) => (await ask<{ counts: Record<string, number> }>("counts")).counts[phase] ?? 0,
    latencyStart: () => sub.send({ cmd: "latency-start" }),
    latencyStop: async () => (await ask<{ latencies: number[] }>("latency-stop")).latencies,
    close: async () => {
      sub.send({ cmd: "exit" });
      await new Promise((r) => sub.once("exit", r));
    },
  };
}

/**
 * Sends QoS 0 at `rate` messages/s for `seconds`, round-robin over the clients: what is due is sent, then the
 * sender sleeps a millisecond (a loop that polled without sleeping would take a core from the gateway).
 */
export async function offerQos0(
  clients: BenchClient[],
  phase: string,
  rate: number,
  seconds: number,
): Promise<{ sent: number; elapsed: number }> {
  const total = rate * seconds;
  const start = nowUs();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((nowUs() - start) / 1e6) * rate));
    while (sent < due) {
      const c = clients[sent % clients.length] as BenchClient;
      c.send(c.publishFrame(`bench/${phase}/${sent % clients.length}`, 0, 0, sent));
      sent++;
    }
    await sleep(1);
  }
  return { sent, elapsed: (nowUs() - start) / 1e6 };
}

/** Waits until the subscriber counted `expected` messages of a phase, or 5 s passed; returns its count. */
export async function settleCount(sub: CountingSubscriber, phase: string, expected: number): Promise<number> {
  const deadline = Date.now() + 5000;
  let got = await sub.count(phase);
  while (got < expected && Date.now() < deadline) {
    await sleep(100);
    got = await sub.count(phase);
  }
  return got;
}

export interface RateFigures {
  rate: number;
  sent: number;
  elapsed: number;
  delivered: number;
  /** Dropped at the gateway's own UDP socket, and on every UDP socket of the machine. */
  gatewaySocketDrops: number;
  machineUdpDrops: number;
  /** Gateway CPU over the sending time plus a short drain (1 = one full core). */
  cpu: number;
  /** Share of that time the gateway was ready but waited for a CPU. */
  runQueueWait: number;
  cpuSeconds: number;
  rssMb: number;
}

/** One paced QoS 0 phase at `rate` through the gateway `pid` (UDP port `udpPort`), with its figures. */
export async function measureRate(
  clients: BenchClient[],
  sub: CountingSubscriber,
  gateway: { pid: number; udpPort: number },
  rate: number,
  seconds: number,
): Promise<RateFigures> {
  const phase = `q0r${rate}`;
  const t0 = cpuTicks(gateway.pid);
  const drops0 = udpRcvbufErrors();
  const own0 = udpSocketDrops(gateway.udpPort);
  const wait0 = runQueueWaitNs(gateway.pid);
  const w0 = Date.now();
  const { sent, elapsed } = await offerQos0(clients, phase, rate, seconds);
  // CPU and run-queue figures over the sending time plus a short drain, not the wait for stragglers.
  await sleep(300);
  const cpuSeconds = (cpuTicks(gateway.pid) - t0) / 100;
  const wall = (Date.now() - w0) / 1000;
  const runQueueWait = (runQueueWaitNs(gateway.pid) - wait0) / 1e9 / wall;
  const delivered = await settleCount(sub, phase, sent);
  return {
    rate,
    sent,
    elapsed,
    delivered,
    gatewaySocketDrops: udpSocketDrops(gateway.udpPort) - own0,
    machineUdpDrops: udpRcvbufErrors() - drops0,
    cpu: cpuSeconds / wall,
    runQueueWait,
    cpuSeconds,
    rssMb: rssMb(gateway.pid),
  };
}

export function describeRate(f: RateFigures): string {
  return (
    `offered ${f.rate.toLocaleString("en")}/s: sent ${f.sent} in ${f.elapsed.toFixed(2)} s, delivered ${f.delivered} ` +
    `(${(f.delivered / f.elapsed).toFixed(0)}/s), loss ${(((f.sent - f.delivered) / f.sent) * 100).toFixed(2)}% ` +
    `(dropped at the gateway's UDP socket ${f.gatewaySocketDrops}, on all UDP sockets of the machine ${f.machineUdpDrops}), ` +
    `gateway CPU ${(f.cpu * 100).toFixed(0)}% (ready but waiting for a CPU ${(f.runQueueWait * 100).toFixed(0)}% of the time), ` +
    `${((f.cpuSeconds / f.delivered) * 1e6).toFixed(1)} µs CPU per message (one full core ≈ ${(f.delivered / f.cpuSeconds).toFixed(0)}/s), ` +
    `RSS ${f.rssMb.toFixed(1)} MB`
  );
}
