// Loaded into the gateway process by bench/scale.ts (node --expose-gc --import this file): on SIGUSR2 it reads
// a command from $MQTTSN_PROBE_DIR/command — "gc", or "snapshot FILE" (a V8 heap snapshot, which collects
// garbage first) — runs it, and writes the process's memory figures to $MQTTSN_PROBE_DIR/result.json.
// It changes nothing of the gateway; without MQTTSN_PROBE_DIR it does nothing.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import v8 from "node:v8";

const dir = process.env.MQTTSN_PROBE_DIR;

function run(command) {
  if (command.startsWith("snapshot ")) {
    v8.writeHeapSnapshot(command.slice("snapshot ".length));
    return;
  }
  // Twice: what the first one finalizes (weak references, finalizers) goes with the second.
  globalThis.gc();
  globalThis.gc();
}

if (dir !== undefined && typeof globalThis.gc === "function") {
  process.on("SIGUSR2", () => {
    const command = readFileSync(join(dir, "command"), "utf8").trim();
    run(command);
    const result = {
      command,
      memory: process.memoryUsage(),
      heap: v8.getHeapStatistics(),
      spaces: v8.getHeapSpaceStatistics(),
    };
    writeFileSync(join(dir, "result.tmp"), JSON.stringify(result));
    renameSync(join(dir, "result.tmp"), join(dir, "result.json"));
  });
}
