import { execFileSync } from "node:child_process";

/** True when CI=true: there a missing system dependency fails the run instead of skipping a suite. */
export const inCi = process.env.CI === "true";

export function hasCommand(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a suite that needs these commands can run. Missing outside CI: the suite is skipped with a
 * line saying what to install. Missing in CI: throws, so the run fails.
 */
export function systemHas(commands: string[], installHint: string): boolean {
  const missing = commands.filter((c) => !hasCommand(c));
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(", ")}: ${installHint}`;
  if (inCi) throw new Error(message);
  console.warn(`skipping suite: ${message}`);
  return false;
}
