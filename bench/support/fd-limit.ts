// The open-file limit of this process and of what it starts (the gateway and Mosquitto inherit it). Node has
// no setrlimit: a limit too low for the run is raised by starting this benchmark again through a shell that
// raises its soft limit (up to the hard one) and execs node with the same arguments.
import { execFileSync, spawnSync } from "node:child_process";

const RAISED = "MQTTSN_BENCH_FDS_RAISED";

function limit(flag: "-Sn" | "-Hn"): number {
  const text = execFileSync("sh", ["-c", `ulimit ${flag}`], { encoding: "utf8" }).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

export function fileLimits(): { soft: number; hard: number } {
  return { soft: limit("-Sn"), hard: limit("-Hn") };
}

/**
 * Makes sure this process may open `needed` files: returns when it may (or when the hard limit forbids
 * more: then the run goes on and says so); otherwise runs the benchmark again with the soft limit raised
 * and exits with its status.
 */
export function ensureFileLimit(needed: number): void {
  const { soft, hard } = fileLimits();
  if (soft >= needed) return;
  if (process.env[RAISED] !== undefined || hard <= soft) {
    console.log(`open-file limit ${soft} (hard ${hard}) is below the ${needed} this run needs: expect failures`);
    return;
  }
  const target = Math.min(hard, needed);
  console.log(`raising the open-file limit from ${soft} to ${target} and starting again`);
  const r = spawnSync(
    "sh",
    ["-c", `ulimit -n ${target} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, [RAISED]: "1" } },
  );
  process.exit(r.status ?? 1);
}
