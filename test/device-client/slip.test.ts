import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc16, encodeSlipFrame, SlipReceiver } from "../../device-client/core/index";
import { encodeSlip, SlipDecoder } from "../../transports/serial/slip";
import { referenceCrc16, referenceSlipFrame } from "../support/slip-reference";
import { systemHas } from "../support/system";

/**
 * The device client's SLIP + CRC framing (protocol/slip.ts, as the device client exports it) against
 * the reference of hardware/serial-framing.md and against the gateway's streaming decoder
 * (transports/serial/slip.ts), which shares the CRC and the escaping but has its own receiver.
 */
const message = fc.uint8Array({ minLength: 2, maxLength: 60 });

function deviceEncode(m: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 * (m.length + 2) + 2);
  const n = encodeSlipFrame(m as unknown as number[], m.length, out as unknown as number[]);
  return out.subarray(0, n);
}

/**
 * Noise that happens to be a whole frame (its last two octets the CRC of the rest, one chance in
 * 65,536 per length) is a frame, not noise: such cases are left out rather than expected to vanish.
 */
function isCrcValidFrame(noise: Uint8Array): boolean {
  const octets: number[] = [];
  for (let i = 0; i < noise.length; i++) {
    const o = noise[i] as number;
    if (o !== 0xdb) {
      octets.push(o);
      continue;
    }
    const next = noise[++i];
    if (next === 0xdc) octets.push(0xc0);
    else if (next === 0xdd) octets.push(0xdb);
    else return false;
  }
  if (octets.length < 3) return false;
  const n = octets.length - 2;
  return crc16(octets, 0, n) === (octets[n] as number) * 256 + (octets[n + 1] as number);
}

function deviceDecode(stream: Uint8Array, size = 64): { frames: string[]; dropped: number } {
  const frames: string[] = [];
  const r = new SlipReceiver(new Uint8Array(size) as unknown as number[], size, {
    frame: (buf, length) =>
      frames.push(Buffer.from((buf as unknown as Uint8Array).subarray(0, length)).toString("hex")),
  });
  for (const octet of stream) r.push(octet);
  return { frames, dropped: r.dropped };
}

describe("device client SLIP framing", () => {
  it("computes CRC-16/CCITT-FALSE (check value 0x29B1)", () => {
    expect(crc16(Array.from(Buffer.from("123456789")), 0, 9)).toBe(0x29b1);
  });

  it("encodes exactly as the reference of hardware/serial-framing.md, and as the gateway's serial transport", () => {
    fc.assert(
      fc.property(message, (m) => {
        const reference = Buffer.from(referenceSlipFrame(m)).toString("hex");
        expect(Buffer.from(deviceEncode(m)).toString("hex")).toBe(reference);
        expect(Buffer.from(encodeSlip(m)).toString("hex")).toBe(reference);
      }),
    );
  });

  it("decodes the gateway's frames, with noise between them, and the gateway decodes the client's", () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 5 }),
        fc.uint8Array({ maxLength: 8 }),
        (messages, rawNoise) => {
          const noise = rawNoise.filter((o) => o !== 0xc0);
          fc.pre(!isCrcValidFrame(noise));
          const parts: Uint8Array[] = [];
          for (const m of messages) parts.push(noise, encodeSlip(m));
          const got = deviceDecode(Buffer.concat(parts));
          expect(got.frames).toEqual(messages.map((m) => Buffer.from(m).toString("hex")));
          const back: string[] = [];
          const gateway = new SlipDecoder(64, (f) => back.push(Buffer.from(f).toString("hex")));
          for (const m of messages) gateway.push(deviceEncode(m));
          expect(back).toEqual(messages.map((m) => Buffer.from(m).toString("hex")));
        },
      ),
    );
  });

  it("drops and counts a bad CRC, a bad escape and an oversize frame, then carries on", () => {
    const good = encodeSlip(Uint8Array.from([3, 0x0c, 1]));
    const badCrc = Uint8Array.from(good);
    badCrc[badCrc.length - 2] = (badCrc[badCrc.length - 2] as number) ^ 1;
    const badEscape = Uint8Array.from([0xc0, 3, 0xdb, 0x01, 0xc0]);
    const oversize = encodeSlip(new Uint8Array(40).fill(7));
    const got = deviceDecode(Buffer.concat([badCrc, badEscape, oversize, good]), 16);
    expect(got.frames).toEqual(["030c01"]);
    expect(got.dropped).toBe(3);
  });
});

const hasLua = systemHas(["lua5.1", "lua5.3"], "sudo apt-get install lua5.1 lua5.3");
let dir = "";
beforeAll(() => {
  if (!hasLua) return;
  dir = mkdtempSync(join(tmpdir(), "mqttsn-slip-"));
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", dir], { stdio: "pipe" });
}, 60_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasLua)("device client SLIP framing in Lua", () => {
  it("computes the CRC, frames and unframes like the reference on lua5.1 and lua5.3", () => {
    const messages = [
      Uint8Array.from([3, 0x0c, 0xc0]),
      Uint8Array.from([4, 0xdb, 0xc0, 0xdb]),
      Uint8Array.from(Buffer.from("0b0c2000c00001", "hex")),
    ];
    const script = `
      package.path = ${JSON.stringify(dir + "/?.lua;")} .. package.path
      local m = require("mqttsn-client")
      local out, rx = {}, {}
      for i = 1, 64 do out[i] = 0; rx[i] = 0 end
      local got = {}
      local r = m.createSlipReceiver(rx, 64, { frame = function(buf, n) local t = {} for i = 1, n do t[i] = string.format("%02x", buf[i]) end got[#got + 1] = table.concat(t) end })
      for line in io.lines() do
        local bytes = {}
        for h in line:gmatch("%x%x") do bytes[#bytes + 1] = tonumber(h, 16) end
        local n = m.encodeSlipFrame(bytes, #bytes, out)
        local t = {}
        for i = 1, n do t[i] = string.format("%02x", out[i]); r:push(out[i]) end
        print(table.concat(t))
      end
      print(table.concat(got, " "))
      local check = { 49, 50, 51, 52, 53, 54, 55, 56, 57 }
      print(string.format("%04x", m.crc16(check, 0, 9)), string.format("%04x", m.crc16(out, 0, 64)))`;
    const input = messages.map((m) => Buffer.from(m).toString("hex")).join("\n") + "\n";
    const frames = messages.map((m) => referenceSlipFrame(m));
    const lastOut = new Uint8Array(64);
    for (const f of frames) lastOut.set(f);
    const crcs = ["29b1", referenceCrc16(lastOut).toString(16).padStart(4, "0")].join("\t");
    const expected = [
      ...frames.map((f) => Buffer.from(f).toString("hex")),
      messages.map((m) => Buffer.from(m).toString("hex")).join(" "),
      crcs,
    ];
    for (const lua of ["lua5.1", "lua5.3"]) {
      expect(execFileSync(lua, ["-e", script], { input, encoding: "utf8" }).trim().split("\n"), lua).toEqual(expected);
    }
  });
});
