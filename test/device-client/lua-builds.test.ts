import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemHas } from "../support/system";

/**
 * What each Lua file of scripts/build-device-lua.mjs holds: the modules of its bundle (no codec, the
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

/** The module names of a typescript-to-lua bundle (its ["name"] = function(...) entries). */
function modules(file: string): string[] {
  return [...readFileSync(join(dir, file), "utf8").matchAll(/\["([^"]+)"\] = function\(\.\.\.\)/g)].map(
    (m) => m[1] as string,
  );
}

const codec = ["protocol.index", "protocol.decode", "protocol.encode", "protocol.errors", "protocol.flags"];
const libraries = ["mqttsn-client.lua", "mqttsn-sensor.lua", "mqttsn-nodemcu.lua", "mqttsn-nodemcu-sensor.lua"];

describe("the Lua files: what each holds", () => {
  it("the libraries carry no codec, and the example program is in none of them", () => {
    for (const file of libraries) {
      const names = modules(file);
      expect(names, file).toContain("device-client.core.sensor");
      for (const m of [...codec, "device-client.examples.publish-app"]) expect(names, file).not.toContain(m);
    }
  });

  it("the full client only in the full libraries, the serial framing only where a UART adapter needs it", () => {
    for (const file of ["mqttsn-client.lua", "mqttsn-nodemcu.lua"]) {
      expect(modules(file), file).toEqual(expect.arrayContaining(["device-client.core.client", "protocol.slip"]));
    }
    expect(modules("mqttsn-nodemcu-sensor.lua")).toContain("protocol.slip");
    for (const file of ["mqttsn-sensor.lua", "mqttsn-nodemcu-sensor.lua"]) {
      expect(modules(file), file).not.toContain("device-client.core.client");
    }
    expect(modules("mqttsn-sensor.lua")).not.toContain("protocol.slip");
  });

  it("the example module holds the example and not the client", () => {
    const names = modules("examples/publish-app.lua");
    expect(names).toContain("device-client.examples.publish-app");
    for (const m of [...codec, "device-client.core.session"]) expect(names).not.toContain(m);
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
    print(m.profile, type(c.publish), type(c.subscribe), type(c.updateWillTopic), type(m.createSlipReceiver),
      type(m.createPublishApp), m.shortTopicId("ab"), m.shortTopicName(24930))
    print(ok, err)`;
  const expected: Record<string, string> = {
    "mqttsn-client": "full\tfunction\tfunction\tfunction\tfunction\tnil\t24930\tab",
    "mqttsn-sensor": "sensor\tfunction\tnil\tnil\tnil\tnil\t24930\tab",
    "mqttsn-nodemcu": "full\tfunction\tfunction\tfunction\tfunction\tnil\t24930\tab",
    "mqttsn-nodemcu-sensor": "sensor\tfunction\tnil\tnil\tfunction\tnil\t24930\tab",
  };
  for (const interpreter of ["lua5.1", "lua5.3"]) {
    for (const [library, api] of Object.entries(expected)) {
      it(`${interpreter}: ${library} makes the ${api.split("\t")[0]} client; a programmer error is a string`, () => {
        const [first, second] = lua(interpreter, probe(library)).split("\n");
        expect(first).toBe(api);
        // The constructor's check of the client id against the buffers, as a plain Lua error message.
        expect(second).toBe("false\tthe client id and the will do not fit buffers of 16 octets");
      });
    }
  }
});
