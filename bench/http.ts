// What the HTTP listener (--http: /metrics, /healthz, the status page) costs and how fast it answers:
// 1. the gateway command as installed (node dist/gateway/main.js, embedded broker) with and without
//    --http: time to the ready line, resident memory idle and after 20 scrapes of /metrics and /;
// 2. in this process, a gateway holding 10,000 sessions (CONNECTs through an in-memory link, a stand-in
//    upstream that accepts at once): the time to answer GET /, GET /metrics and GET /healthz, and the page's size.
// Prints medians of several runs and never fails on time. Needs dist/ (`npm run build`).
//
//   npx tsx bench/http.ts [--runs 5] [--devices 10000]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startGateway } from "../gateway";
import { acceptingUpstream } from "../test/gateway/support/accepting-upstream";
import { ensureGatewayBundle } from "../test/support/gateway-bundle";
import { MsgType } from "../protocol";
import { MemoryLink } from "../test/gateway/support/memory-link";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "5" }, devices: { type: "string", default: "10000" } },
});
const RUNS = Number(args.runs);
const DEVICES = Number(args.devices);
const MAIN = fileURLToPath(new URL("../dist/gateway/main.js", import.meta.url));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ProcessRun {
  readyMs: number;
  idleMb: number;
  scrapedMb: number | undefined;
}

async function runCommand(http: boolean): Promise<ProcessRun> {
  const flags = ["--udp", "127.0.0.1:0", "--embedded-port", "0", ...(http ? ["--http", "127.0.0.1:0"] : [])];
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, ...flags], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  const ready = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(performance.now() - started);
    });
    child.once("exit", (code) => reject(new Error(`the gateway exited with ${code} before it was ready`)));
  });
  await sleep(2000);
  const idleMb = rssMb(child.pid as number);
  let scrapedMb: number | undefined;
  const address = /; http (\S+)/.exec(out)?.[1];
  if (address !== undefined) {
    for (let i = 0; i < 20; i++) {
      await (await fetch(`http://${address}/metrics`)).text();
      await (await fetch(`http://${address}/`)).text();
    }
    await sleep(500);
    scrapedMb = rssMb(child.pid as number);
  }
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
  return { readyMs: ready, idleMb, scrapedMb };
}

async function timeGets(address: string, path: string, times: number): Promise<{ ms: number; octets: number }> {
  const ms: number[] = [];
  let octets = 0;
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    octets = (await (await fetch(`http://${address}${path}`)).text()).length;
    ms.push(performance.now() - t);
  }
  return { ms: median(ms), octets };
}

ensureGatewayBundle();
console.log(`gateway command (node dist/gateway/main.js, embedded broker), median of ${RUNS} runs:`);
for (const http of [false, true]) {
  const runs: ProcessRun[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await runCommand(http));
  const scraped = runs.flatMap((r) => (r.scrapedMb === undefined ? [] : [r.scrapedMb]));
  console.log(
    `  ${http ? "--http 127.0.0.1:0" : "no --http         "}  ready ${median(runs.map((r) => r.readyMs)).toFixed(0)} ms` +
      `  RSS idle ${median(runs.map((r) => r.idleMb)).toFixed(1)} MB` +
      (scraped.length > 0 ? `  RSS after 20 scrapes of /metrics and / ${median(scraped).toFixed(1)} MB` : ""),
  );
}

const link = new MemoryLink("memory", () => undefined);
const gateway = await startGateway(
  {
    udp: ["127.0.0.1:0"],
    broker: "mqtt://127.0.0.1:1",
    http: "127.0.0.1:0",
    advertiseTarget: "",
    limits: { maxClients: DEVICES + 10 },
    timers: { advertiseIntervalS: 0 },
    sleep: { store: { path: "" } },
  },
  { links: [link], upstream: acceptingUpstream() },
);
for (let i = 0; i < DEVICES; i++)
  link.inject(`10.${Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}:5000`, {
    type: MsgType.Connect,
    will: false,
    cleanSession: true,
    duration: 3600,
    clientId: `dev-${i}`,
  });
const address = gateway.httpAddress as string;
console.log(`in process, ${gateway.sessionCount()} sessions, median of 20 requests:`);
for (const path of ["/", "/?page=50", "/metrics", "/healthz"]) {
  const { ms, octets } = await timeGets(address, path, 20);
  console.log(`  GET ${path.padEnd(10)} ${ms.toFixed(1)} ms, ${octets} octets`);
}
await gateway.close();
