import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeSlip, SlipDecoder } from "../../transports/serial/slip";
import { systemHas } from "../support/system";

/**
 * The NodeMCU adapter's millisecond clock from tmr.now(), which wraps at 2^31 µs on the ESP8266, and
 * its UART transport, on lua5.1 with tmr and uart stood in (the firmware itself is not covered).
 */
const hasLua = systemHas(["lua5.1"], "sudo apt-get install lua5.1");
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-nodemcu-"));
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", dir], { stdio: "pipe" });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasLua)("NodeMCU adapter", () => {
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

  it("speaks SLIP-framed MQTT-SN on the UART: CONNECT out, CONNACK in, Active", () => {
    const connack = Buffer.from(encodeSlip(Uint8Array.from([3, 0x05, 0]))).toString("hex");
    const script = `
      package.path = ${JSON.stringify(dir + "/?.lua;")} .. package.path
      local m = require("mqttsn-nodemcu")
      local written, onData, runInput = {}, nil, nil
      tmr = { now = function() return 1000 end, ALARM_AUTO = 1,
        create = function() return { alarm = function() end, unregister = function() end } end }
      uart = { write = function(id, s) written[#written + 1] = s end,
        on = function(event, n, fn, run) onData, runInput = fn, run end }
      local states = {}
      local handler = { stateChanged = function(s) states[#states + 1] = s end, message = function() end, done = function() end }
      local c = m.NodeMcuClient.newUart(m, handler, m.defaultOptions("uart-1", math.random), { id = 0 })
      c:start(100)
      local hex = {}
      for i = 1, #written[1] do hex[i] = string.format("%02x", written[1]:byte(i)) end
      print(table.concat(hex))
      local bytes = {}
      for h in ("${connack}"):gmatch("%x%x") do bytes[#bytes + 1] = string.char(tonumber(h, 16)) end
      onData(table.concat(bytes))
      print(table.concat(states, " "), runInput)`;
    const [frame, states] = execFileSync("lua5.1", ["-e", script], { encoding: "utf8" }).trim().split("\n");
    const got: string[] = [];
    const decoder = new SlipDecoder(64, (m) => got.push(Buffer.from(m).toString("hex")));
    decoder.push(Buffer.from(frame ?? "", "hex"));
    expect(got).toEqual(["0c04040100" + "3c" + Buffer.from("uart-1").toString("hex")]);
    // Connecting (2), then Active (3); the console does not take the UART's input (run_input 0).
    expect(states).toBe("2 3\t0");
  });
});
