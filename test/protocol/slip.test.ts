import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  crc16,
  encodeSlipFrame,
  slipCrcMatches,
  slipEscape,
  slipMaxFrameLength,
  slipUnescape,
  type Bytes,
} from "../../protocol";
import { referenceCrc16, referenceSlipFrame } from "../support/slip-reference";

/** protocol/slip.ts, the portable framing, against the reference written from hardware/serial-framing.md. */
const asBytes = (b: Uint8Array) => b as unknown as Bytes;
const message = fc.uint8Array({ minLength: 2, maxLength: 300 });

function frame(m: Uint8Array): Uint8Array {
  const out = new Uint8Array(slipMaxFrameLength(m.length));
  return out.subarray(0, encodeSlipFrame(asBytes(m), m.length, asBytes(out)));
}

describe("portable CRC-16/CCITT-FALSE", () => {
  it("check value: CRC of ASCII 123456789 is 0x29B1, also inside a larger buffer", () => {
    expect(crc16(Array.from(Buffer.from("123456789")), 0, 9)).toBe(0x29b1);
    expect(crc16(Array.from(Buffer.from("xx123456789yy")), 2, 9)).toBe(0x29b1);
  });

  it("equals the bitwise reference for any octets and any range", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const offset = bytes.length === 0 ? 0 : a % bytes.length;
        const length = bytes.length - offset === 0 ? 0 : b % (bytes.length - offset + 1);
        const crc = crc16(asBytes(bytes), offset, length);
        expect(crc).toBe(referenceCrc16(bytes.subarray(offset, offset + length)));
        expect(Number.isInteger(crc) && crc >= 0 && crc <= 0xffff).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("portable SLIP primitives", () => {
  it("escapes END and ESC into two octets and leaves every other octet alone", () => {
    for (let octet = 0; octet < 256; octet++) {
      const out = [0, 0];
      const n = slipEscape(octet, out, 0);
      if (octet === 0xc0) expect([n, ...out]).toEqual([2, 0xdb, 0xdc]);
      else if (octet === 0xdb) expect([n, ...out]).toEqual([2, 0xdb, 0xdd]);
      else expect([n, out[0]]).toEqual([1, octet]);
    }
  });

  it("unescapes ESC_END and ESC_ESC, and refuses every other octet after ESC", () => {
    const valid = Array.from({ length: 256 }, (_, octet) => slipUnescape(octet)).filter((v) => v >= 0);
    expect(valid).toEqual([0xc0, 0xdb]);
    expect(slipUnescape(0xdc)).toBe(0xc0);
    expect(slipUnescape(0xdd)).toBe(0xdb);
  });

  it("encodes frames exactly as the reference, within slipMaxFrameLength, writing nothing past the frame", () => {
    fc.assert(
      fc.property(message, (m) => {
        const out = new Uint8Array(slipMaxFrameLength(m.length) + 4).fill(0x55);
        const n = encodeSlipFrame(asBytes(m), m.length, asBytes(out));
        expect(Buffer.from(out.subarray(0, n)).toString("hex")).toBe(
          Buffer.from(referenceSlipFrame(m)).toString("hex"),
        );
        expect(n).toBeLessThanOrEqual(slipMaxFrameLength(m.length));
        expect(Array.from(out.subarray(n))).toEqual(new Array(out.length - n).fill(0x55));
      }),
    );
  });

  it("every message octet escaped: the frame is slipMaxFrameLength less the CRC octets left unescaped", () => {
    const m = new Uint8Array(8).fill(0xc0);
    m[0] = 0xdb;
    const crc = referenceCrc16(m);
    const n = frame(m).length;
    const crcEscapes = [crc >> 8, crc & 0xff].filter((o) => o === 0xc0 || o === 0xdb).length;
    expect(n).toBe(slipMaxFrameLength(m.length) - 2 + crcEscapes);
  });

  it("slipCrcMatches: a message with its CRC matches, any flipped bit or a short frame does not", () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, flip) => {
        const crc = referenceCrc16(m);
        const body = Uint8Array.from([...m, crc >> 8, crc & 0xff]);
        expect(slipCrcMatches(asBytes(body), body.length)).toBe(true);
        const at = flip % (body.length * 8);
        body[at >> 3] = (body[at >> 3] as number) ^ (1 << (at & 7));
        expect(slipCrcMatches(asBytes(body), body.length)).toBe(false);
      }),
    );
    expect(slipCrcMatches([0x02, 0x16, 0x09], 3)).toBe(false);
    expect(slipCrcMatches([0x02, 0x16, 0x09, 0x9a], 4)).toBe(true);
  });
});
