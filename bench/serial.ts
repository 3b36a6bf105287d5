// Serial link figures: SLIP and raw framing throughput (pure decode, no I/O), and frames per second
// through a SerialLink over a socat pseudo-terminal pair in both directions. A pty ignores the baud rate,
// so these are the link's own costs, not a UART's. Prints a table; never fails on time.
//
//   npm run bench:serial            (or: npx tsx bench/serial.ts [--frames 5000] [--size 40])
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SerialPort } from "serialport";
import { createFramer, FRAMINGS, type Framing } from "../transports/serial/framing";
import { SerialLink } from "../transports/serial/serial-link";

const { values: args } = parseArgs({
  options: { frames: { type: "string", default: "5000" }, size: { type: "string", default: "40" } },
});
const FRAMES = Number(args.frames);
const SIZE = Number(args.size);

function publish(total: number, seed: number): Uint8Array {
  const out = new Uint8Array(total);
  out.set([total, 0x0c, 0x20, 0x00, 0x01, (seed >> 8) & 0xff, seed & 0xff]);
  for (let i = 7; i < total; i++) out[i] = (seed + i) & 0xff;
  return out;
}

function decodeThroughput(framing: Framing): { mbPerS: number; framesPerS: number } {
  const encoder = createFramer(framing, 1024, () => undefined);
  const frames = Array.from({ length: 1000 }, (_, i) => encoder.encode(publish(SIZE, i)));
  const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    stream.set(f, o);
    o += f.length;
  }
  let count = 0;
  const decoder = createFramer(framing, 1024, () => count++);
  const start = process.hrtime.bigint();
  let octets = 0;
  while (process.hrtime.bigint() - start < 500_000_000n) {
    for (let i = 0; i < stream.length; i += 64) decoder.push(stream.subarray(i, i + 64));
    octets += stream.length;
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return { mbPerS: octets / s / 1e6, framesPerS: count / s };
}

async function ptyRoundTrip(framing: Framing): Promise<{ toDevice: number; toLink: number }> {
  const dir = mkdtempSync(join(tmpdir(), "mqttsn-bench-"));
  const a = join(dir, "a");
  const b = join(dir, "b");
  const socat = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: "ignore" });
  while (!(existsSync(a) && existsSync(b))) await new Promise((r) => setTimeout(r, 20));
  const link = new SerialLink({ path: a, baudRate: 115200, framing, maxWriteQueue: 1 << 24 });
  let atLink = 0;
  let linkDone: () => void = () => undefined;
  await link.open(() => {
    if (++atLink === FRAMES) linkDone();
  });
  const port = new SerialPort({ path: b, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  let atDevice = 0;
  let deviceDone: () => void = () => undefined;
  const deviceFramer = createFramer(framing, 1024, () => {
    if (++atDevice === FRAMES) deviceDone();
  });
  port.on("data", (chunk: Buffer) => deviceFramer.push(chunk));

  const frames = Array.from({ length: FRAMES }, (_, i) => publish(SIZE, i));
  let start = process.hrtime.bigint();
  const toDeviceDone = new Promise<void>((r) => (deviceDone = r));
  for (const f of frames) link.send(a, f);
  await toDeviceDone;
  const toDevice = FRAMES / (Number(process.hrtime.bigint() - start) / 1e9);

  const wire = Buffer.concat(frames.map((f) => Buffer.from(deviceFramer.encode(f))));
  start = process.hrtime.bigint();
  const toLinkDone = new Promise<void>((r) => (linkDone = r));
  port.write(wire);
  await toLinkDone;
  const toLink = FRAMES / (Number(process.hrtime.bigint() - start) / 1e9);

  await link.close();
  await new Promise<void>((r) => port.close(() => r()));
  socat.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
  return { toDevice, toLink };
}

console.log(`serial framing, PUBLISH of ${SIZE} octets`);
console.log("framing | decode MB/s | decode frames/s | pty link→device frames/s | pty device→link frames/s");
for (const framing of FRAMINGS) {
  const d = decodeThroughput(framing);
  const p = await ptyRoundTrip(framing);
  console.log(
    `${framing.padEnd(7)} | ${d.mbPerS.toFixed(1).padStart(11)} | ${Math.round(d.framesPerS).toString().padStart(15)} | ${Math.round(p.toDevice).toString().padStart(24)} | ${Math.round(p.toLink).toString().padStart(24)}`,
  );
}
