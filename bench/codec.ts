// Codec figures: encode and decode throughput on Node for PUBLISH and CONNECT, and the size of the
// codec as it ships to the boards (the Lua build and the minified Espruino file). It prints a table
// and never fails on time.
//
//   npm run bench:codec            (or: npx tsx bench/codec.ts [--rounds 5] [--ms 500])
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { decode, encode, encodingLength, MsgType, TopicIdType, type Message } from "../protocol";

const { values: args } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, ms: { type: "string", default: "500" } },
});
const ROUNDS = Number(args.rounds);
const ROUND_MS = Number(args.ms);

const payload = Array.from({ length: 20 }, (_, i) => 0x30 + (i % 10));

const subjects: { name: string; message: Message }[] = [
  {
    name: "PUBLISH qos 1, 20-octet payload",
    message: {
      type: MsgType.Publish,
      dup: false,
      qos: 1,
      retain: false,
      topicIdType: TopicIdType.Normal,
      topicId: 42,
      msgId: 7,
      data: payload,
      dataOffset: 0,
      dataLength: payload.length,
    },
  },
  {
    name: "CONNECT will+clean, 11-octet client id",
    message: { type: MsgType.Connect, will: true, cleanSession: true, duration: 60, clientId: "sensor-0042" },
  },
];

type Operation = (buf: Buffer, n: number) => number;

/** Runs op in batches for about ROUND_MS and returns operations per second. */
function round(op: Operation, buf: Buffer): number {
  let count = 0;
  let sink = 0;
  const batch = 10_000;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ROUND_MS) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    sink += op(buf, batch);
    count += batch;
    now = process.hrtime.bigint();
  }
  if (sink === -1) console.log("unreachable");
  return count / (Number(now - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Warm-up round, then ROUNDS timed rounds: the median in operations per second. */
function measure(op: Operation, buf: Buffer): number {
  round(op, buf);
  const rates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rates.push(round(op, buf));
  return median(rates);
}

function operations(message: Message): {
  encode: Operation;
  decode: Operation;
  decodeInto: Operation;
  both: Operation;
} {
  const length = encodingLength(message);
  const asBytes = (buf: Buffer): number[] => buf as unknown as number[];
  return {
    encode: (buf, n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += encode(message, asBytes(buf), 0);
      return sum;
    },
    decode: (buf, n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += decode(asBytes(buf), 0, length).type as number;
      return sum;
    },
    decodeInto: (buf, n) => {
      let sum = 0;
      const options = { into: {} };
      for (let i = 0; i < n; i++) sum += decode(asBytes(buf), 0, length, options).type as number;
      return sum;
    },
    both: (buf, n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const written = encode(message, asBytes(buf), 0);
        sum += decode(asBytes(buf), 0, written).type as number;
      }
      return sum;
    },
  };
}

function formatRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Every file under dir (recursively, hidden folders of other builds skipped) whose name passes keep. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith(".")) out.push(...filesUnder(full, keep));
    } else if (keep(entry.name)) out.push(full);
  }
  return out.sort();
}

function sizeRow(label: string, files: string[]): string[] {
  if (files.length === 0) return [label, "not found", "", ""];
  const bytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const gzip = gzipSync(Buffer.concat(files.map((f) => readFileSync(f)))).length;
  const where =
    files.length === 1 ? (files[0] as string) : `${files.length} files in ${path.dirname(files[0] as string)}`;
  return [label, String(bytes), String(gzip), where];
}

function build(script: string): string | undefined {
  try {
    execFileSync("node", [script], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr;
    return `${script} failed: ${stderr === undefined ? String(error) : stderr.toString().trim()}`;
  }
}

function main(): void {
  console.log(`MQTT-SN codec on Node ${process.version}: ${ROUNDS} rounds of ${ROUND_MS} ms after a warm-up, median\n`);
  const rows: string[][] = [];
  for (const subject of subjects) {
    const ops = operations(subject.message);
    const buf = Buffer.alloc(encodingLength(subject.message));
    encode(subject.message, buf as unknown as number[], 0);
    rows.push([
      subject.name,
      String(buf.length),
      formatRate(measure(ops.encode, buf)),
      formatRate(measure(ops.decode, buf)),
      formatRate(measure(ops.decodeInto, buf)),
      formatRate(measure(ops.both, buf)),
    ]);
  }
  console.log(table(["message", "octets", "encode", "decode", "decode into", "encode+decode"], rows));

  const problems = [build("scripts/build-lua.mjs"), build("scripts/build-espruino.mjs")].filter((p) => p !== undefined);
  // The codec's Lua modules sit in the folder that holds decode.lua; its one-file bundle beside it.
  const lua = filesUnder("dist/lua", (n) => n.endsWith(".lua"));
  const decodeLua = lua.find((f) => path.basename(f) === "decode.lua");
  const luaModules = decodeLua === undefined ? [] : lua.filter((f) => path.dirname(f) === path.dirname(decodeLua));
  const lualib = luaModules.filter((f) => path.basename(f) === "lualib_bundle.lua");
  const luaBundles = lua.filter((f) => path.dirname(f) === "dist/lua" && path.basename(f).includes("protocol"));
  const espruino = filesUnder("dist/espruino", (n) => n.endsWith(".js") && n.includes("protocol"));
  const sizes = [
    sizeRow(
      "Lua modules, lualib excluded",
      luaModules.filter((f) => !lualib.includes(f)),
    ),
    sizeRow("Lua lualib_bundle", lualib),
    ...luaBundles.map((f) => sizeRow(`Lua one-file bundle ${path.basename(f)}`, [f])),
    ...espruino.map((f) => sizeRow(`Espruino minified ${path.basename(f)}`, [f])),
  ];
  console.log(`\n${table(["codec build", "bytes", "gzip", "file"], sizes)}`);
  for (const p of problems) console.log(`\nnote: ${p}`);
}

main();
