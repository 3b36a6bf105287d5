// Figures for the device client: bundle sizes, steady-state allocation in Lua, and the Espruino
// variables a running client holds: estimated by a cost model, and measured in a real Espruino
// interpreter when ESPRUINO_BIN names one (bench/device-client-espruino.ts). Prints figures; never
// fails on them.
//   npm run bench:device-client
//   ESPRUINO_BIN=/path/to/espruino npm run bench:device-client     (several: ESPRUINO_BIN=a:b)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MqttSnClient } from "../device-client/core/client";
import { defaultOptions } from "../device-client/core/options";
import { PublishApp } from "../device-client/examples/publish-app";
import { encode, MsgType, type Message } from "../protocol/index";
import { espruinoBinaries, printEspruinoFigures } from "./device-client-espruino";

const dir = mkdtempSync(join(tmpdir(), "mqttsn-bench-device-"));
try {
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", join(dir, "lua")], { stdio: "pipe" });
  execFileSync("node", ["scripts/build-device-espruino.mjs", "--out", join(dir, "espruino")], { stdio: "pipe" });
  const size = (f: string) => statSync(join(dir, f)).size;

  console.log("## Bundle sizes (bytes)");
  // Targets (1 KB = 1,024 bytes): Lua compacted, full client 40 KB, sensor profile 20 KB; Espruino minified,
  // full client 10 KB, sensor profile 6 KB. No target: the serial add-on and the examples.
  for (const [file, what, target] of [
    ["lua/mqttsn-client.lua", "Lua, full client + LuaSocket adapter", 40],
    ["lua/mqttsn-sensor.lua", "Lua, sensor profile + LuaSocket adapter", 20],
    ["lua/mqttsn-nodemcu.lua", "Lua, full client + NodeMCU adapter", 40],
    ["lua/mqttsn-nodemcu-sensor.lua", "Lua, sensor profile + NodeMCU adapter", 20],
    ["lua/examples/publish-app.lua", "Lua, the example program", 0],
    ["espruino/mqttsn-client.min.js", "Espruino, full client + UDP adapter", 10],
    ["espruino/mqttsn-sensor.min.js", "Espruino, sensor profile + UDP adapter", 6],
    ["espruino/mqttsn-serial.min.js", "Espruino, serial adapter add-on", 0],
    ["espruino/publish.min.js", "Espruino, example on the sensor profile, self-contained", 0],
    ["espruino/publish-full.min.js", "Espruino, example on the full client, UDP and serial", 0],
  ] as const) {
    const bytes = size(file);
    const verdict = target === 0 ? "" : `  target ${target} KB ${bytes <= target * 1024 ? "met" : "MISSED"}`;
    console.log(`${`${what} (${file})`.padEnd(86)} ${String(bytes).padStart(6)}${verdict}`);
  }

  console.log(
    '\n## Lua: bytes allocated per operation in steady state (collector stopped, collectgarbage("count")), datagrams sent per operation',
  );
  for (const library of ["mqttsn-client", "mqttsn-sensor"]) {
    for (const lua of ["lua5.1", "lua5.3"]) {
      try {
        const out = execFileSync(lua, ["bench/device-client-alloc.lua", join(dir, "lua"), "20000", library], {
          encoding: "utf8",
        });
        for (const line of out.trim().split("\n")) {
          const [name, bytes, datagrams] = line.split("\t");
          console.log(
            `${lua}  ${library.padEnd(14)} ${(name ?? "").padEnd(36)} ${bytes} bytes  ${datagrams} datagrams`,
          );
        }
      } catch (e) {
        console.log(`${lua} ${library}: not run (${(e as Error).message.split("\n")[0]})`);
      }
    }
  }

  const bins = espruinoBinaries();
  console.log("\n## Espruino: variables in use, MEASURED in a real Espruino interpreter (process.memory())");
  if (bins.length === 0) {
    console.log(
      "not measured: set ESPRUINO_BIN to an Espruino interpreter built for Linux (BOARD=LINUX; several separated by" +
        ' ":") to run the bundles in it. Only the cost model below runs without one.',
    );
  } else {
    await printEspruinoFigures(join(dir, "espruino"), bins);
  }

  console.log("\n## Espruino: variables held by a running client, from the COST MODEL (an estimate, computed in Node)");
  // A computed specifier: the build script is plain JavaScript without type declarations.
  const buildScript = "../scripts/build-device-espruino.mjs";
  // The names the Espruino build shortens: private members and the options' keys.
  const { ESPRUINO_NAMES } = (await import(buildScript)) as { ESPRUINO_NAMES: RegExp };
  const estimate = espruinoVariables(ESPRUINO_NAMES);
  const codeBytes = size("espruino/publish.min.js");
  console.log(`client state (core, topic table, buffers, app, handler)     ~${estimate.total} variables`);
  for (const [k, v] of Object.entries(estimate.parts)) console.log(`  ${k.padEnd(56)} ${v}`);
  console.log(
    `function code if kept in RAM (publish.min.js / 12 chars per variable) ~${Math.ceil(codeBytes / 12)} variables`,
  );
  console.log("function code when saved to flash and run from there: ~0 variables (code stays in flash)");
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Counts Espruino variables for the object graph of a client set up as the Espruino example sets it
 * (2 in-flight buffers of 128 octets, Uint8Arrays), connected, with one registered topic and one
 * subscription. Cost model, after Espruino's internals documentation: every object, array or
 * function is 1 variable; every property or array element is 1 name variable, plus 1 per further
 * 12 characters of a name longer than 4; a small integer, boolean or undefined value is packed into
 * its name; any other number is 1 more; a string is 1 plus 1 per further 12 characters; a
 * Uint8Array is 3 (view, buffer, flat string header) plus 1 per 16 octets. Strings are counted per
 * occurrence (Espruino shares some), function bodies are left out (see the code lines). Property
 * names are counted as the bundle spells them (private members and the options' keys shortened).
 */
function espruinoVariables(shortened: RegExp): { total: number; parts: Record<string, number> } {
  const options = defaultOptions("espruino-1", Math.random);
  const app = new PublishApp(
    { topic: "sensors/espruino", count: 5, qos: 1, subscribe: "" },
    { line: () => {}, finished: () => {} },
    new Uint8Array(32) as unknown as number[],
  );
  const inflight = [new Uint8Array(128), new Uint8Array(128)];
  const client = new MqttSnClient(
    { send: () => {}, broadcast: () => {}, selectGateway: () => {} },
    app.handler,
    { tx: new Uint8Array(128) as unknown as number[], inflight: inflight as unknown as number[][], size: 128 },
    options,
  );
  app.client = client;
  const rx = new Uint8Array(128);
  const deliver = (m: Message) =>
    client.receive(rx as unknown as number[], encode(m, rx as unknown as number[], 0), true);
  client.start(0);
  deliver({ type: MsgType.ConnAck, returnCode: 0 });
  const r = client.register("sensors/espruino");
  deliver({ type: MsgType.RegAck, topicId: 1, msgId: r, returnCode: 0 });
  const s = client.subscribe("sensors/commands", 1);
  deliver({ type: MsgType.SubAck, qos: 1, topicId: 2, msgId: s, returnCode: 0 });

  const seen = new Set<object>();
  const strVars = (s: string) => 1 + Math.ceil(Math.max(0, s.length - 4) / 12);
  // Private members get one- or two-letter names in the bundle (mangleProps).
  const nameVars = (name: string) => (shortened.test(name) ? 1 : 1 + Math.ceil(Math.max(0, name.length - 4) / 12));
  const valueVars = (v: unknown): number => {
    if (v === undefined || v === null || typeof v === "boolean") return 0;
    if (typeof v === "number") return Number.isInteger(v) && Math.abs(v) < 2 ** 30 ? 0 : 1;
    if (typeof v === "string") return strVars(v);
    if (typeof v === "function") return seen.has(v) ? 0 : (seen.add(v), 1);
    return objectVars(v as object);
  };
  const objectVars = (o: object): number => {
    if (seen.has(o)) return 0;
    seen.add(o);
    if (o instanceof Uint8Array) return 3 + Math.ceil(o.length / 16);
    let n = 1;
    if (Array.isArray(o)) {
      for (const v of o) n += 1 + valueVars(v);
      return n;
    }
    for (const key of Object.keys(o)) n += nameVars(key) + valueVars((o as Record<string, unknown>)[key]);
    return n;
  };
  const parts: Record<string, number> = {};
  // The Espruino adapter keeps no receive buffer: it reads a view on each datagram's string.
  parts["in-flight and transmit buffers (3 × 128-octet Uint8Array)"] =
    objectVars(inflight) + valueVars((client as unknown as { tx: unknown }).tx);
  parts["options"] = objectVars(options);
  parts["client object (slots, topic table)"] = objectVars(client);
  parts["example app and its handler (the portable one of publish-full.min.js)"] = objectVars(app);
  return { total: Object.values(parts).reduce((a, b) => a + b, 0), parts };
}
