import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemHas } from "../support/system";

/** The NodeMCU adapter's millisecond clock from tmr.now(), which wraps at 2^31 µs on the ESP8266. */
const hasLua = systemHas(["lua5.1"], "sudo apt-get install lua5.1");
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-nodemcu-"));
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", dir], { stdio: "pipe" });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasLua)("NodeMCU adapter clock", () => {
  it("keeps counting forward across the wrap of tmr.now()", () => {
    const script = `
      package.path = ${JSON.stringify(dir + "/?.lua;")} .. package.path
      local m = require("mqttsn-nodemcu")
      local seq = { 2147483648 - 1000, 2147483648 - 10, 5, 2000, 1000000 }
      local i = 0
      tmr = { now = function() i = i + 1; return seq[i] end }
      local clock = { lastMicros = tmr.now(), micros = 0 }
      local out = {}
      for k = 1, 4 do out[k] = m.NodeMcuClient.now(clock) end
      print(table.concat(out, " "))`;
    expect(execFileSync("lua5.1", ["-e", script], { encoding: "utf8" }).trim()).toBe("0 1 3 1001");
  });
});
