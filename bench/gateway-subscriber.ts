// The counting subscriber of bench/gateway-throughput.ts, in its own process so that receiving does not
// slow the load generator. Counts messages per phase (bench/<phase>/…) and, when asked, records latency
// (receive time − the send time in the first 8 payload octets, µs on the shared monotonic clock).
import mqtt from "mqtt";

const url = process.argv[2] as string;
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
const counts: Record<string, number> = {};
let latencies: number[] | undefined;

const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
client.on("message", (topic, payload) => {
  const phase = topic.slice(6, topic.indexOf("/", 6));
  counts[phase] = (counts[phase] ?? 0) + 1;
  if (latencies !== undefined && phase.startsWith("lat")) latencies.push(nowUs() - payload.readDoubleBE(0));
});
await client.subscribeAsync("bench/#", { qos: 0 });
process.on("message", (m: { cmd: string }) => {
  if (m.cmd === "latency-start") latencies = [];
  if (m.cmd === "latency-stop") {
    process.send?.({ latencies: latencies ?? [] });
    latencies = undefined;
  }
  if (m.cmd === "counts") process.send?.({ counts });
  if (m.cmd === "exit") void client.endAsync().then(() => process.exit(0));
});
process.send?.({ ready: true });
