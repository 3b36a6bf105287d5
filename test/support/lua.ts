import { spawnSync } from "node:child_process";
import type { Case } from "./transcript";

/** The cases as a Lua chunk for test/lua/transcript.lua: bytes become 1-based tables. */
export function luaCases(cases: Case[]): string {
  const rows = cases.map((c) => {
    const limit = c.maxClientIdLength === undefined ? "" : `, maxClientIdLength = ${c.maxClientIdLength}`;
    return `  { at = ${c.at}, length = ${c.length}, bytes = { ${c.bytes.join(", ")} }${limit} },`;
  });
  return `return {\n${rows.join("\n")}\n}\n`;
}

/**
 * Runs a Lua script with input on stdin; returns its stdout. Throws with the interpreter's stderr
 * when it fails, so a Lua error reads as the test failure.
 */
export function runLua(interpreter: string, script: string, args: string[], input: string): string {
  const result = spawnSync(interpreter, [script, ...args], { input, encoding: "utf8", timeout: 30_000 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${interpreter} ${script} exited with ${String(result.status)}:\n${result.stderr}`);
  }
  return result.stdout;
}

/** Splits "N\tline" output of the Lua runner into the lines for cases 1..count, in order. */
export function numberedLines(stdout: string, count: number): string[] {
  const lines = new Array<string>(count).fill("<no line>");
  for (const row of stdout.split("\n")) {
    const tab = row.indexOf("\t");
    if (tab < 0) continue;
    const n = Number(row.slice(0, tab));
    if (Number.isInteger(n) && n >= 1 && n <= count) lines[n - 1] = row.slice(tab + 1);
  }
  return lines;
}
