import { describe, expect, it } from "vitest";
import { isTopicName } from "../../protocol";
import { runLua } from "../support/lua";
import { systemHas } from "../support/system";

// dist/lua is built by test/support/global-setup.ts (scripts/build-lua.mjs) before any suite runs.
const BUNDLE = "dist/lua/protocol.lua";
const INTERPRETERS = ["lua5.1", "lua5.3"];
const NAMES = ["a/b", "ab", "/", "#", "+", "#a", "a+", "a/+/b", "x/#", "é/ü", ""];

/** A Lua chunk (read by `lua -` from stdin) printing "name<TAB>true|false" per name through the Lua build. */
function chunk(names: string[]): string {
  const table = names.map((n) => JSON.stringify(n)).join(", ");
  return `local codec = dofile(arg[1])
for _, name in ipairs({ ${table} }) do
  print(name .. "\\t" .. tostring(codec.isTopicName(name)))
end
`;
}

describe.runIf(systemHas(INTERPRETERS, "apt-get install lua5.1 lua5.3"))("isTopicName built to Lua", () => {
  it.each(INTERPRETERS)("%s answers as Node does for every name", (interpreter) => {
    const expected = NAMES.map((name) => `${name}\t${String(isTopicName(name))}\n`).join("");
    expect(runLua(interpreter, "-", [BUNDLE], chunk(NAMES))).toBe(expected);
  });
});
