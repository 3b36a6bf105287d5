import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import * as codec from "../../protocol";
import { describeViolations, espruinoViolations, FORBIDDEN_GLOBALS } from "../support/espruino-gate";
import { apiListing, buildCases, randomCases, transcript, type Codec } from "../support/transcript";

// dist/espruino is built by test/support/global-setup.ts (scripts/build-espruino.mjs) before any suite runs.
const BUNDLE = "dist/espruino/protocol.min.js";
const GLOBAL_NAME = "MQTTSN";
const RANDOM_FRAMES = 3000;

const rejected: { construct: string; source: string; rule: RegExp }[] = [
  { construct: "object destructuring", source: "var { a } = o;", rule: /destructuring/ },
  { construct: "array destructuring", source: "var [a, b] = o;", rule: /destructuring/ },
  { construct: "destructuring parameter", source: "function f({ a }) { return a; }", rule: /destructuring/ },
  { construct: "spread", source: "f(...args);", rule: /spread/ },
  { construct: "array spread", source: "var b = [...a];", rule: /spread/ },
  { construct: "rest parameter", source: "function f(...args) { return args; }", rule: /rest/ },
  { construct: "default parameter", source: "function f(a = 1) { return a; }", rule: /default/ },
  { construct: "optional chaining", source: "var x = a?.b;", rule: /not ES2015/ },
  { construct: "nullish coalescing", source: "var x = a ?? b;", rule: /not ES2015/ },
  { construct: "exponent operator", source: "var x = a ** 2;", rule: /not ES2015/ },
  { construct: "async function", source: "async function f() { await g(); }", rule: /not ES2015/ },
  { construct: "generator", source: "function* g() { yield 1; }", rule: /generator/ },
  { construct: "class private field", source: "class A { #x = 1; }", rule: /not ES2015/ },
  { construct: "class field", source: "class A { x = 1; }", rule: /not ES2015/ },
  { construct: "tagged template", source: "var s = tag`x${1}`;", rule: /tagged template/ },
  { construct: "for...of", source: "for (var x of xs) f(x);", rule: /for\.\.\.of/ },
  { construct: "unicode regex", source: "var r = /a/u;", rule: /regular expression/ },
  {
    construct: "getter export table",
    source: 'Object.defineProperty(e, "x", { get: f });',
    rule: /Object\.defineProperty/,
  },
  {
    construct: "esbuild __export helper",
    source: "__export(e, { decode: () => d });",
    rule: /bundler helper __export/,
  },
  { construct: "esbuild __toESM helper", source: "var m = __toESM(r);", rule: /bundler helper __toESM/ },
  ...FORBIDDEN_GLOBALS.map((name) => ({
    construct: `global ${name}`,
    source: `var x = typeof ${name} === "undefined" ? 0 : ${name}.length;`,
    rule: new RegExp(`global ${name}$`),
  })),
  { construct: "assignment to a forbidden global", source: "Map = 1;", rule: /global Map/ },
  {
    construct: "a global Espruino lacks",
    source: "var c = structuredClone(o);",
    rule: /global structuredClone is not/,
  },
  { construct: "a Node timer", source: "setImmediate(f);", rule: /global setImmediate is not/ },
];

const accepted: { construct: string; source: string }[] = [
  { construct: "arrow function, let and const", source: "const f = (a) => { let b = a + 1; return b; };" },
  { construct: "plain template literal", source: "var n = 1; var s = `n=${n}`;" },
  { construct: "class without fields", source: "class A { constructor(x) { this.x = x; } get() { return this.x; } }" },
  { construct: "property named like a forbidden global", source: "var o = { Map: 1, Buffer: 2 }; o.Set = o.Symbol;" },
  { construct: "regex without u or y", source: "var r = /a+/gi;" },
  {
    construct: "Espruino globals and local names",
    source:
      "function f(b) { var n = Math.floor(b[0] / 256); return String.fromCharCode(n) + new Uint8Array(2).length; }",
  },
];

describe("Espruino syntax gate", () => {
  it.each(rejected)("rejects $construct", ({ source, rule }) => {
    const rules = espruinoViolations(source).map((v) => v.rule);
    expect(
      rules.some((r) => rule.test(r)),
      `got: ${rules.join("; ") || "nothing"}`,
    ).toBe(true);
  });

  it.each(accepted)("accepts $construct", ({ source }) => {
    expect(describeViolations(espruinoViolations(source))).toEqual([]);
  });

  it("build-espruino.mjs honours --entry, --out and --global", () => {
    const dir = mkdtempSync(join(tmpdir(), "espruino-build-"));
    try {
      const out = join(dir, "topics.min.js");
      execFileSync("node", [
        "scripts/build-espruino.mjs",
        "--entry",
        "protocol/topics.ts",
        "--out",
        out,
        "--global",
        "T",
      ]);
      const source = readFileSync(out, "utf8");
      expect(describeViolations(espruinoViolations(source))).toEqual([]);
      const context = vm.createContext({});
      vm.runInContext(source, context);
      expect(vm.runInContext("T.hasWildcard('a/+') && !T.hasWildcard('a/b')", context)).toBe(true);
      expect(vm.runInContext("[T.isTopicName('a/b'), T.isTopicName('#a'), T.isTopicName('a/+')].join()", context)).toBe(
        "true,false,false",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`accepts the codec bundle ${BUNDLE}`, () => {
    expect(describeViolations(espruinoViolations(readFileSync(BUNDLE, "utf8")))).toEqual([]);
  });
});

/**
 * A fresh realm shaped like Espruino: the ES2015 built-ins it has, without the Node globals and
 * the built-ins it lacks. The bundle runs inside; a reference to a missing global throws there.
 */
function espruinoContext(): vm.Context {
  const context = vm.createContext({});
  vm.runInContext(`for (const name of ${JSON.stringify(FORBIDDEN_GLOBALS)}) delete this[name];`, context);
  return context;
}

describe("codec bundle in an Espruino-shaped vm", () => {
  const context = espruinoContext();
  const globalNames = (): string[] => vm.runInContext("Object.getOwnPropertyNames(this)", context) as string[];
  const before = globalNames();
  vm.runInContext(readFileSync(BUNDLE, "utf8"), context, { filename: BUNDLE });
  const added = globalNames().filter((name) => !before.includes(name));
  const bundled = vm.runInContext(GLOBAL_NAME, context) as Codec;
  const toUint8Array = vm.runInContext("(function (bytes) { return new Uint8Array(bytes); })", context) as (
    bytes: number[],
  ) => ArrayLike<number>;

  const cases = buildCases();
  const random = randomCases(RANDOM_FRAMES, 20260511);
  const all = [...cases, ...random];
  const expected = transcript(codec as unknown as Codec, all, (bytes) => Buffer.from(bytes));
  const actual = transcript(bundled, all, toUint8Array);

  it("runs without the globals Espruino lacks", () => {
    const present = FORBIDDEN_GLOBALS.filter((name) => vm.runInContext(`typeof ${name} !== "undefined"`, context));
    expect(present).toEqual([]);
    expect(Object.getPrototypeOf(bundled)).toBe(vm.runInContext("Object.prototype", context));
  });

  it("exports the same names, constants and enum tables as the Node module", () => {
    expect(apiListing(bundled as unknown as Record<string, unknown>)).toBe(
      apiListing(codec as unknown as Record<string, unknown>),
    );
  });

  it(`defines the one global ${GLOBAL_NAME} and nothing else`, () => {
    expect(added).toEqual([GLOBAL_NAME]);
  });

  it("exposes the API as plain data properties, not getters", () => {
    const getters = Object.keys(bundled).filter((k) => Object.getOwnPropertyDescriptor(bundled, k)?.get);
    expect(getters).toEqual([]);
  });

  it.each(cases.map((c, i) => ({ name: c.name, i })))("$name: same transcript as Node", ({ i }) => {
    expect(actual[i]).toBe(expected[i]);
  });

  it(`${RANDOM_FRAMES} seeded random frames: same transcript as Node`, () => {
    const differing = random
      .map((c, k) => ({ name: c.name, node: expected[cases.length + k], espruino: actual[cases.length + k] }))
      .filter((d) => d.node !== d.espruino);
    expect(differing.slice(0, 5)).toEqual([]);
  });
});
