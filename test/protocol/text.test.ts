import { readFileSync } from "node:fs";
import vm from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as codec from "../../protocol";
import { encode, hasWildcard, isTopicName, MsgType, shortTopicId, shortTopicName, utf8Length } from "../../protocol";
import { readUtf8, writeUtf8 } from "../../protocol/text";
import { luaCases, numberedLines, runLua } from "../support/lua";
import { systemHas } from "../support/system";
import { transcript, type Case, type Codec } from "../support/transcript";

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

/** Characters of every UTF-8 width; the last two are surrogate pairs in JavaScript. */
const WIDE = ["a", "/", "é", "ß", "€", "語", "😀", "𝄞"];

describe("utf8Length against Node's Buffer.byteLength", () => {
  it("counts 1 to 4 octets per character, a surrogate pair as one 4-octet character", () => {
    for (const c of WIDE) expect(utf8Length(c)).toBe(Buffer.byteLength(c, "utf8"));
    expect(utf8Length("\ud83d\ude00")).toBe(4);
    expect(utf8Length("\u{10ffff}")).toBe(4);
    expect(utf8Length("\uffff")).toBe(3);
    expect(utf8Length("\u07ff\u0800")).toBe(5);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WIDE), { maxLength: 60 }), (chars) => {
        const s = chars.join("");
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("throws on a lone surrogate, as encode does, where Node would write U+FFFD (3 octets)", () => {
    for (const s of ["\ud800", "a\udbff", "\udc00b", "\ude00\ud83d", "x\ud83d\ud83d\ude00"]) {
      expect(Buffer.byteLength(s, "utf8")).toBe(Buffer.from(s.replace(/[\ud800-\udfff]/gu, "\ufffd")).length);
      expect(() => utf8Length(s)).toThrow(/lone UTF-16 surrogate/);
      const register = { type: MsgType.Register, topicId: 0, msgId: 1, topicName: s } as const;
      expect(() => encode(register, [], 0)).toThrow(/lone UTF-16 surrogate/);
    }
  });
});

/**
 * REGISTER frames whose names are long (up to 1,200 characters of every width, far beyond the 32
 * code units readUtf8 builds one piece of), some with a malformed octet deep inside: every build
 * of the codec must decode them to the same text or the same error offset.
 */
function longNameCases(): Case[] {
  const names = fc.sample(
    fc.array(fc.constantFrom(...WIDE), { minLength: 0, maxLength: 1200, size: "max" }).map((chars) => chars.join("")),
    { seed: SEED, numRuns: 40 },
  );
  names.push("é".repeat(1000), "a".repeat(1000), "😀".repeat(1000));
  const cases: Case[] = [];
  names.forEach((name, n) => {
    const octets = [...Buffer.from(name, "utf8")];
    const variants: [string, number[]][] = [["well-formed", octets]];
    if (octets.length > 100) {
      // A stray continuation octet, an octet never in UTF-8, and a sequence cut at the end.
      variants.push(["0x80 at octet 100", [...octets.slice(0, 100), 0x80, ...octets.slice(100)]]);
      variants.push(["0xff near the end", [...octets.slice(0, -1), 0xff]]);
      variants.push(["cut 3-octet sequence at the end", [...octets, 0xe2, 0x82]]);
    }
    for (const [what, body] of variants) {
      const total = 6 + body.length <= 255 ? 6 + body.length : 8 + body.length;
      const header = total <= 255 ? [total] : [0x01, Math.floor(total / 256), total % 256];
      const bytes = [...header, 0x0a, 0x00, 0x01, 0x00, 0x02, ...body];
      cases.push({ name: `name ${n} (${name.length} code units), ${what}`, at: 0, length: bytes.length, bytes });
    }
  });
  return cases;
}

describe("long names decode the same in every build (Node, Lua 5.1 and 5.3, Espruino bundle)", () => {
  const cases = longNameCases();
  const expected = transcript(codec as unknown as Codec, cases, (bytes) => Buffer.from(bytes));

  it("the cases decode to their names, and the malformed ones to an error", () => {
    expect(expected.filter((line) => line.startsWith('{code="bad-utf8"'))).toHaveLength(
      cases.filter((c) => !c.name.endsWith("well-formed")).length,
    );
    expect(expected.filter((line) => line.includes("threw"))).toEqual([]);
  });

  it("Espruino bundle in a vm: same transcript as Node", () => {
    const context = vm.createContext({});
    vm.runInContext(readFileSync("dist/espruino/protocol.min.js", "utf8"), context);
    const bundled = vm.runInContext("MQTTSN", context) as Codec;
    const toUint8Array = vm.runInContext("(function (bytes) { return new Uint8Array(bytes); })", context) as (
      bytes: number[],
    ) => ArrayLike<number>;
    expect(transcript(bundled, cases, toUint8Array)).toEqual(expected);
  });

  for (const lua of ["lua5.1", "lua5.3"]) {
    it.runIf(systemHas([lua], "apt-get install lua5.1 lua5.3"))(
      `${lua}, dist/lua/protocol.lua: same transcript`,
      () => {
        const out = runLua(lua, "test/lua/transcript.lua", ["dist/lua/protocol.lua"], luaCases(cases));
        expect(numberedLines(out, cases.length)).toEqual(expected);
      },
    );
  }
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
