import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasWildcard, isTopicName, shortTopicId, shortTopicName, utf8Length } from "../../protocol";
import { readUtf8, writeUtf8 } from "../../protocol/text";

const SEED = process.env.FC_SEED === undefined ? 0x7e47 : Number(process.env.FC_SEED);
const strict = new TextDecoder("utf-8", { fatal: true });

/** Octets that are often UTF-8 and often almost UTF-8: real encodings, lead and continuation octets, edges. */
const utf8ish = fc.array(
  fc.oneof(
    fc.string({ unit: "binary", maxLength: 4 }).map((s) => [...Buffer.from(s, "utf8")]),
    fc.constantFrom([0xc0], [0xc1], [0xc2], [0xdf], [0xe0], [0xed], [0xef], [0xf0], [0xf4], [0xf5], [0xff]),
    fc.constantFrom([0x80], [0x8f], [0x90], [0x9f], [0xa0], [0xbf]),
    fc.integer({ min: 0, max: 255 }).map((b) => [b]),
  ),
  { maxLength: 12 },
);

describe("UTF-8 (RFC 3629) without platform APIs", () => {
  it("utf8Length and writeUtf8 agree with Node's encoder for any well-formed string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        const expected = Buffer.from(s, "utf8");
        expect(utf8Length(s)).toBe(expected.length);
        const out: number[] = [];
        expect(writeUtf8(s, out, 0)).toBe(expected.length);
        expect(Buffer.from(out).equals(expected)).toBe(true);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("readUtf8 accepts exactly what a strict decoder accepts, with the same text", () => {
    fc.assert(
      fc.property(utf8ish, fc.integer({ min: 0, max: 5 }), (chunks, at) => {
        const bytes = chunks.flat();
        // Continuation octets around the range: reading past its end would complete a cut sequence.
        const buf = new Array<number>(at).fill(0x80).concat(bytes, [0x80, 0x80, 0x80]);
        let expected: string | undefined;
        try {
          expected = strict.decode(Uint8Array.from(bytes));
        } catch {
          expected = undefined;
        }
        const got = readUtf8(buf, at, at + bytes.length);
        if (expected === undefined) {
          expect(typeof got).toBe("number");
          // The reported octet lies in the range, and everything before it is well-formed.
          const bad = -(got as number) - 1;
          expect(bad).toBeGreaterThanOrEqual(at);
          expect(bad).toBeLessThan(at + bytes.length);
          expect(() => strict.decode(Uint8Array.from(buf.slice(at, bad)))).not.toThrow();
        } else {
          expect(got).toBe(expected);
        }
      }),
      { seed: SEED, numRuns: 10000 },
    );
  }, 60_000);
});

describe("short topic names (§3.3.2)", () => {
  it("carry two ASCII characters in the topic id, first character high", () => {
    expect(shortTopicId("ab")).toBe(0x6162);
    expect(shortTopicName(0x6162)).toBe("ab");
    expect(shortTopicName(shortTopicId("t/"))).toBe("t/");
  });

  it("refuse names that are not two ASCII characters", () => {
    expect(() => shortTopicId("a")).toThrow(/exactly two characters/);
    expect(() => shortTopicId("abc")).toThrow(/exactly two characters/);
    expect(() => shortTopicId("aé")).toThrow(/ASCII/);
  });
});

describe("hasWildcard", () => {
  it.each([
    ["a/b", false],
    ["a/+/b", true],
    ["a/#", true],
    ["#", true],
    ["", false],
  ])("%s → %s", (filter, expected) => {
    expect(hasWildcard(filter)).toBe(expected);
  });
});

describe("isTopicName (MQTT 3.1.1 §4.7.1: wildcards only in filters)", () => {
  it.each([
    ["a/b", true],
    ["ab", true],
    ["/", true],
    ["a/+/b", false],
    ["a/#", false],
    ["#a", false],
    ["a+", false],
    ["+", false],
  ])("%s → %s", (name, expected) => {
    expect(isTopicName(name)).toBe(expected);
  });

  it("is the opposite of hasWildcard for any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "/", "+", "#", " ") }), (text) => {
        expect(isTopicName(text)).toBe(!hasWildcard(text));
      }),
      { seed: SEED },
    );
  });
});
