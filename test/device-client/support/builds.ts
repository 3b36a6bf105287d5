import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { runEspruino } from "./espruino-vm";

/**
 * nodemcu: the NodeMCU bundle and example on lua5.1 under support/nodemcu-shim.lua (net, tmr stood in).
 * espruino: the example on the full client (publish-full.min.js). The "-sensor" builds run the example
 * on the sensor profile and take only the scenarios the profile covers (sensorCovers): espruino-sensor
 * (publish.min.js), lua5.1-sensor (publish.lua --profile sensor, mqttsn-sensor.lua) and nodemcu-sensor
 * (MQTTSN_CONFIG.profile "sensor", mqttsn-nodemcu-sensor.lua).
 */
export type Build =
  "node" | "lua5.1" | "lua5.3" | "nodemcu" | "espruino" | "espruino-sensor" | "lua5.1-sensor" | "nodemcu-sensor";

/** Every build that runs here: the Lua ones when the interpreters are installed. */
export function allBuilds(hasLua: boolean): Build[] {
  const lua: Build[] = hasLua ? ["lua5.1", "lua5.3", "nodemcu", "lua5.1-sensor", "nodemcu-sensor"] : [];
  return ["node", ...lua, "espruino", "espruino-sensor"];
}

/** The sensor profile publishes at QoS -1, 0 and 1 and does not subscribe. */
export function sensorCovers(s: Scenario): boolean {
  return s.qos !== 2 && s.subscribe === "";
}

/** The builds of `builds` that take scenario s. */
export function buildsFor(builds: Build[], s: Scenario): Build[] {
  return builds.filter((b) => !b.endsWith("-sensor") || sensorCovers(s));
}

export interface Scenario {
  clientId: string;
  topic: string;
  count: number;
  qos: -1 | 0 | 1 | 2;
  /** "" for none. */
  subscribe: string;
}

export interface ExampleRun {
  lines: string[];
  ok: boolean;
}

/** Builds the Lua and Espruino bundles of the device client into dir (lua/, espruino/). */
export function buildDeviceClient(dir: string): void {
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", join(dir, "lua")], { stdio: "pipe" });
  execFileSync("node", ["scripts/build-device-espruino.mjs", "--out", join(dir, "espruino")], { stdio: "pipe" });
}

function processRun(command: string, args: string[]): Promise<ExampleRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    // Decoded as one UTF-8 stream, so that a character split across two reads stays whole.
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill(), 15_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0 && err) console.error(err);
      resolve({ lines: out.split("\n").filter((l) => l !== ""), ok: code === 0 });
    });
  });
}

/** Runs the publish example of one build against 127.0.0.1:port; dir holds the bundles. */
export async function runExample(build: Build, dir: string, port: number, s: Scenario): Promise<ExampleRun> {
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--client-id",
    s.clientId,
    "--topic",
    s.topic,
    "--count",
    String(s.count),
    "--qos",
    String(s.qos),
  ];
  if (s.subscribe) args.push("--subscribe", s.subscribe);
  if (build === "node") return processRun("node", ["--import", "tsx", "device-client/examples/publish.ts", ...args]);
  if (build === "espruino" || build === "espruino-sensor") {
    const config = {
      host: "127.0.0.1",
      port,
      clientId: s.clientId,
      topic: s.topic,
      count: s.count,
      qos: s.qos,
      subscribe: s.subscribe || undefined,
    };
    const file = build === "espruino" ? "publish-full.min.js" : "publish.min.js";
    const r = await runEspruino(join(dir, "espruino", file), config);
    return { ok: r.ok, lines: r.lines.filter((l) => l !== "finished" && l !== "failed") };
  }
  if (build === "nodemcu" || build === "nodemcu-sensor") {
    const shim = ["test/device-client/support/nodemcu-shim.lua", join(dir, "lua"), "nodemcu-publish.lua"];
    return processRun("lua5.1", [
      ...shim,
      "127.0.0.1",
      String(port),
      s.clientId,
      s.topic,
      String(s.count),
      String(s.qos),
      s.subscribe,
      build === "nodemcu-sensor" ? "sensor" : "full",
    ]);
  }
  if (build === "lua5.1-sensor") {
    return processRun("lua5.1", [join(dir, "lua", "examples", "publish.lua"), ...args, "--profile", "sensor"]);
  }
  return processRun(build, [join(dir, "lua", "examples", "publish.lua"), ...args]);
}
