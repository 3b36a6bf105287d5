import { spawn } from "node:child_process";
import { join } from "node:path";

/** The example builds that run as a process: Node (tsx), the Lua bundle, the NodeMCU bundle under the shim. */
export type ExampleBuild = "node" | "lua5.1" | "lua5.3" | "nodemcu";

export interface ExampleFlags {
  host: string;
  port: number;
  clientId: string;
  topic: string;
  count: number;
  qos: -1 | 0 | 1 | 2;
  /** "" for none. */
  subscribe: string;
}

export interface ExampleExit {
  /** null when the process was killed at the deadline. */
  code: number | null;
  lines: string[];
  stderr: string;
}

export function exampleFlags(f: ExampleFlags): string[] {
  const flags = ["--host", f.host, "--port", String(f.port), "--client-id", f.clientId, "--topic", f.topic];
  flags.push("--count", String(f.count), "--qos", String(f.qos));
  if (f.subscribe) flags.push("--subscribe", f.subscribe);
  return flags;
}

/** The command line of a build's example with raw arguments; luaDir holds the built Lua bundles. */
export function exampleCommand(build: ExampleBuild, luaDir: string, args: string[]): [string, string[]] {
  if (build === "node") return ["node", ["--import", "tsx", "device-client/examples/publish.ts", ...args]];
  if (build === "nodemcu") {
    return ["lua5.1", ["test/device-client/support/nodemcu-shim.lua", luaDir, "nodemcu-publish.lua", ...args]];
  }
  return [build, [join(luaDir, "examples", "publish.lua"), ...args]];
}

/** The NodeMCU shim takes the settings in order: host port client-id topic count qos [subscribe]. */
export function shimArgs(f: ExampleFlags): string[] {
  return [f.host, String(f.port), f.clientId, f.topic, String(f.count), String(f.qos), f.subscribe];
}

/** Runs one example process to its end; killed after timeoutMs (then code is null). */
export function runExampleProcess(command: [string, string[]], timeoutMs = 30_000): Promise<ExampleExit> {
  return new Promise((resolve) => {
    const child = spawn(command[0], command[1], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill(), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, lines: stdout.split("\n").filter((l) => l !== ""), stderr });
    });
  });
}

/** Runs a build's example with these settings (as flags, or as the shim's arguments for NodeMCU). */
export function runExample(build: ExampleBuild, luaDir: string, f: ExampleFlags): Promise<ExampleExit> {
  return runExampleProcess(exampleCommand(build, luaDir, build === "nodemcu" ? shimArgs(f) : exampleFlags(f)));
}
