import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shortTopicId } from "../../protocol/index";
import { systemHas } from "../support/system";

/**
 * Backpressure in the Lua bundle: a transport with busy(), a handler with ready(), on lua5.1 and lua5.3.
 * One round is a publish refused with -2 while busy, a tick while still busy (no ready), a tick once free
 * (ready), and a publish that goes out. The rounds allocate nothing: the collector is stopped and
 * collectgarbage("count") read around 10,000 of them, beside a control that allocates one table a round.
 */
const hasLua = systemHas(["lua5.1", "lua5.3"], "sudo apt-get install lua5.1 lua5.3");
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-lua-busy-"));
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", dir], { stdio: "pipe" });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function script(): string {
  return `
package.path = ${JSON.stringify(dir + "/?.lua;")} .. package.path
local m = require("mqttsn-client")
local function buffer(n) local b = {} for i = 1, n do b[i] = 0 end return b end
local busy, sent, ready = false, 0, 0
local transport = {
  send = function() sent = sent + 1 end,
  broadcast = function() end,
  selectGateway = function() end,
  busy = function() return busy end,
}
local handler = {
  stateChanged = function() end, message = function() end, done = function() end,
  ready = function() ready = ready + 1 end,
}
local options = m.defaultOptions("lua-busy", math.random)
options.keepAlive = 0
local client = m.createClient(transport, handler, { tx = buffer(64), inflight = { buffer(64), buffer(64) }, size = 64 }, options)
local rx = buffer(64)
client:start(0)
rx[1], rx[2], rx[3] = 3, 0x05, 0
client:receive(rx, 3, true)
local payload = buffer(8)
local now = 0
local results = {}
local function round()
  busy = true
  local refused = client:publishId(2, ${shortTopicId("ab")}, payload, 0, 8, 0, false)
  now = now + 10
  client:tick(now)
  local readyWhileBusy = ready
  busy = false
  now = now + 10
  client:tick(now)
  local accepted = client:publishId(2, ${shortTopicId("ab")}, payload, 0, 8, 0, false)
  return refused, readyWhileBusy, accepted
end
local sentBefore = sent
local refused, readyWhileBusy, accepted = round()
print(refused, readyWhileBusy, ready, accepted, sent - sentBefore)
local function measure(f)
  for i = 1, 1000 do f() end
  collectgarbage("collect")
  collectgarbage("stop")
  for i = 1, 10 do f() end
  local before = collectgarbage("count")
  for i = 1, 10000 do f() end
  local after = collectgarbage("count")
  collectgarbage("restart")
  return (after - before) * 1024 / 10000
end
local sink
print(string.format("%.3f %.3f", measure(function() sink = { now } end), measure(round)))
print(ready, client.state)`;
}

describe.skipIf(!hasLua)("Lua bundle: backpressure", () => {
  for (const lua of ["lua5.1", "lua5.3"]) {
    it(`${lua}: -2 while busy, ready() once free, and no allocation either way`, () => {
      const [first, bytes, last] = execFileSync(lua, ["-e", script()], { encoding: "utf8" }).trim().split("\n");
      // Refused with -2; no ready() while still busy; ready() once free; the next publish goes out, alone.
      expect(first?.split("\t")).toEqual(["-2", "0", "1", "0", "1"]);
      const [control, round] = (bytes ?? "").split(" ").map(Number);
      expect(control).toBeGreaterThan(0);
      expect(round).toBe(0);
      // One ready() per round (the first, then 1,000 + 10 + 10,000 measured), and still Active.
      expect(last).toBe(`${1 + 1000 + 10 + 10000}\t3`);
    });
  }
});
