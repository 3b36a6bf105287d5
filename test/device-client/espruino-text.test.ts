import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readUtf8 as portableRead, utf8Length as portableLength } from "../../protocol/text";
import { readUtf8, utf8Length, writeUtf8 } from "../../device-client/espruino/text";

/**
 * The Espruino bundles' UTF-8 (device-client/espruino/text.ts) against the portable one
 * (protocol/text.ts), under Node with E stood in as Espruino's behaves: E.toUint8Array gives a
 * string's UTF-8 octets, E.toString a byte string of a Uint8Array's octets, E.asUTF8 the text a byte
 * string of UTF-8 octets encodes. Not covered: Espruino's own strings (the real interpreter counts
 * code points where Node counts UTF-16 units; bench/device-client.ts runs the bundles there).
 */
const E = {
  toUint8Array: (s: string) => new Uint8Array(Buffer.from(s, "utf8")),
  toString: (u8: Uint8Array) => String.fromCharCode(...Array.from(u8)),
  asUTF8: (s: string) => Buffer.from(s, "latin1").toString("utf8"),
};
const global = globalThis as unknown as { E?: typeof E };

beforeAll(() => {
  global.E = E;
});

afterAll(() => {
  delete global.E;
});

describe("Espruino UTF-8", () => {
  it("reads what the portable reader reads, and refuses at the same octet what it refuses", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 12 }), fc.nat(3), (bytes, skip) => {
        const offset = Math.min(skip, bytes.length);
        const buf = bytes as unknown as number[];
        expect(readUtf8(buf, offset, bytes.length)).toEqual(portableRead(buf, offset, bytes.length));
      }),
      { numRuns: 20000 },
    );
  });

  it("refuses overlong forms, surrogates and code points above U+10FFFF at their first octet", () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xe0, 0x9f, 0xbf],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x8f, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      const buf = [0x61, ...bad];
      expect(readUtf8(new Uint8Array(buf) as unknown as number[], 0, buf.length), bad.join(" ")).toBe(-2);
    }
  });

  it("measures and writes every string as the portable code does", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 20 }), (s) => {
        expect(utf8Length(s)).toBe(portableLength(s));
        const buf = new Uint8Array(100);
        writeUtf8(s, buf as unknown as number[], 3);
        const n = portableLength(s);
        expect(Buffer.from(buf.subarray(3, 3 + n)).toString("utf8")).toBe(s);
        expect(buf.subarray(3 + n).every((o) => o === 0)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
