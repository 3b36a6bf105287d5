import { describe, expect, it } from "vitest";
import * as codec from "../../protocol";
import { luaCases, numberedLines, runLua } from "../support/lua";
import { systemHas } from "../support/system";
import { apiListing, buildCases, randomCases, transcript, type Codec } from "../support/transcript";

// dist/lua is built by test/support/global-setup.ts (scripts/build-lua.mjs) before any suite runs.
const RUNNER = "test/lua/transcript.lua";
const API = "test/lua/api.lua";
const BUILDS = [
  { build: "bundle", target: "dist/lua/protocol.lua" },
  { build: "modules", target: "dist/lua/protocol" },
];
const INTERPRETERS = ["lua5.1", "lua5.3"];

const RANDOM_FRAMES = 3000;

const cases = buildCases();
const random = randomCases(RANDOM_FRAMES, 20260511);
const all = [...cases, ...random];
const expected = transcript(codec as unknown as Codec, all, (bytes) => Buffer.from(bytes));
const names = cases.map((c, i) => ({ name: c.name, i }));

describe.runIf(systemHas(INTERPRETERS, "apt-get install lua5.1 lua5.3"))("codec built to Lua", () => {
  it("has cases, and the Node codec re-encodes every fixture without throwing", () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(expected.slice(0, cases.length).filter((line) => line.includes("threw"))).toEqual([]);
  });

  for (const interpreter of INTERPRETERS) {
    for (const { build, target } of BUILDS) {
      describe(`${interpreter}, ${build} (${target})`, () => {
        let lines: string[] | undefined;
        const luaLines = (): string[] => {
          lines ??= numberedLines(runLua(interpreter, RUNNER, [target], luaCases(all)), all.length);
          return lines;
        };

        it("exports the same names, constants and enum tables as the Node module", () => {
          expect(runLua(interpreter, API, [target], "")).toBe(apiListing(codec as unknown as Record<string, unknown>));
        });

        it.each(names)("$name: same transcript as Node", ({ i }) => {
          expect(luaLines()[i]).toBe(expected[i]);
        });

        it(`${RANDOM_FRAMES} seeded random frames: same transcript as Node`, () => {
          const differing = random
            .map((c, k) => ({ name: c.name, node: expected[cases.length + k], lua: luaLines()[cases.length + k] }))
            .filter((d) => d.node !== d.lua);
          expect(differing.slice(0, 5)).toEqual([]);
        });
      });
    }
  }
});
