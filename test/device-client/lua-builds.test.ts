import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemHas } from "../support/system";

/**
 * What each Lua file of scripts/build-device-lua.mjs holds: the functions it defines (no codec, the
 * full client only in the full libraries, the example only in its own module), the API it exports on
 * lua5.1 and lua5.3, and the compaction (no comment lines, no indentation).
 */
const hasLua = systemHas(["lua5.1", "lua5.3"], "sudo apt-get install lua5.1 lua5.3 lua-socket");
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-lua-builds-"));
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", dir], { stdio: "pipe" });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The functions and methods a Lua file defines (`function x.name(` or `function X.prototype.name(`):
 * the bundles' module names are shortened, public function names are not.
 */
function defines(file: string): Set<string> {
  const text = readFileSync(join(dir, file), "utf8");
  return new Set([...text.matchAll(/function [A-Za-z_][\w.]*\.(\w+)\(/g)].map((m) => m[1] as string));
}

/** The codec's entry points (protocol/index): no Lua file of the device client has them. */
const codec = ["decode", "encode", "encodingLength"];
const libraries = ["mqttsn-client.lua", "mqttsn-sensor.lua", "mqttsn-nodemcu.lua", "mqttsn-nodemcu-sensor.lua"];

describe("the Lua files: what each holds", () => {
  it("the libraries carry no codec, and the example program is in none of them", () => {
    for (const file of libraries) {
      const names = defines(file);
      expect(names, file).toContain("publishId");
      for (const name of [...codec, "createPublishApp"]) expect(names, file).not.toContain(name);
    }
  });

  it("the full client only in the full libraries, the serial framing only with the NodeMCU UART transport", () => {
    for (const file of ["mqttsn-client.lua", "mqttsn-nodemcu.lua"]) {
      expect([...defines(file)], file).toEqual(
        expect.arrayContaining(["subscribe", "updateWillTopic", "readUtf8", "encodeSlipFrame", "createSlipReceiver"]),
      );
    }
    // The sensor profile never reads a name from the gateway: protocol/text.ts's readUtf8 is left out.
    for (const file of ["mqttsn-sensor.lua", "mqttsn-nodemcu-sensor.lua"]) {
      for (const name of ["subscribe", "updateWillTopic", "readUtf8"]) expect(defines(file), file).not.toContain(name);
    }
    expect(defines("mqttsn-nodemcu.lua")).toContain("newUart");
    for (const file of ["mqttsn-client.lua", "mqttsn-sensor.lua", "mqttsn-nodemcu-sensor.lua"]) {
      expect(defines(file), file).not.toContain("newUart");
    }
    for (const file of ["mqttsn-sensor.lua", "mqttsn-nodemcu-sensor.lua"]) {
      expect(defines(file), file).not.toContain("encodeSlipFrame");
    }
  });

  it("the example module holds the example and not the client", () => {
    const names = defines("examples/publish-app.lua");
    expect(names).toContain("createPublishApp");
    for (const name of [...codec, "publishId", "createClient"]) expect(names).not.toContain(name);
  });

  it("every library is compacted: no comment lines, no indentation", () => {
    for (const file of libraries) {
      const lines = readFileSync(join(dir, file), "utf8").split("\n");
      expect(
        lines.filter((l) => /^\s/.test(l) || l.startsWith("--")),
        file,
      ).toEqual([]);
    }
  });
});

function lua(interpreter: string, script: string): string {
  return execFileSync(
    interpreter,
    ["-e", `package.path = ${JSON.stringify(dir + "/?.lua;")} .. package.path\n${script}`],
    {
      encoding: "utf8",
    },
  ).trim();
}

describe.skipIf(!hasLua)("the Lua libraries' API", () => {
  const probe = (library: string) => `
    -- The NodeMCU libraries need net and tmr only once an adapter is made: none is here.
    local m = require(${JSON.stringify(library)})
    local function buffer(n) local b = {} for i = 1, n do b[i] = 0 end return b end
    local noop = function() end
    local c = m.createClient({ send = noop, broadcast = noop, selectGateway = noop },
      { stateChanged = noop, message = noop, done = noop },
      { tx = buffer(64), inflight = { buffer(64), buffer(64) }, size = 64 }, m.defaultOptions("probe", math.random))
    local ok, err = pcall(m.createClient, {}, {}, { tx = {}, inflight = {}, size = 16 },
      m.defaultOptions("a-client-id-too-long-for-16", math.random))
    local adapter = m.LuaSocketClient and "LuaSocketClient" or (m.NodeMcuClient.newUart and "NodeMcuClient+uart" or "NodeMcuClient")
    print(m.profile, adapter, type(c.publish), type(c.subscribe), type(c.updateWillTopic), type(m.createSlipReceiver),
      type(m.createPublishApp), m.shortTopicId("ab"), m.shortTopicName(24930))
    print(ok, err)`;
  const expected: Record<string, string> = {
    "mqttsn-client": "full\tLuaSocketClient\tfunction\tfunction\tfunction\tfunction\tnil\t24930\tab",
    "mqttsn-sensor": "sensor\tLuaSocketClient\tfunction\tnil\tnil\tnil\tnil\t24930\tab",
    "mqttsn-nodemcu": "full\tNodeMcuClient+uart\tfunction\tfunction\tfunction\tfunction\tnil\t24930\tab",
    "mqttsn-nodemcu-sensor": "sensor\tNodeMcuClient\tfunction\tnil\tnil\tnil\tnil\t24930\tab",
  };
  for (const interpreter of ["lua5.1", "lua5.3"]) {
    for (const [library, api] of Object.entries(expected)) {
      it(`${interpreter}: ${library} makes the ${api.split("\t")[0]} client; a programmer error is a string`, () => {
        const [first, second] = lua(interpreter, probe(library)).split("\n");
        expect(first).toBe(api);
        // The constructor's check of the client id against the buffers, as a plain Lua error message.
        expect(second).toMatch(/^false\tclientId\/will do not fit 16$/);
      });
    }
  }
});
