import { readFileSync } from "node:fs";
import { join } from "node:path";

interface LockEntry {
  version?: string;
  optional?: boolean;
}

function packages(file: string): Record<string, LockEntry> {
  return (JSON.parse(readFileSync(file, "utf8")) as { packages?: Record<string, LockEntry> }).packages ?? {};
}

/**
 * How node_modules differs from what `npm ci` would install from package-lock.json, read from npm's own record of
 * the tree (node_modules/.package-lock.json): packages missing or at another version, and packages the lock file
 * no longer lists. Optional packages (another platform's binaries) may be absent. Empty when the install is fresh.
 */
export function installDifferences(repo: string): string[] {
  const lock = packages(join(repo, "package-lock.json"));
  let installed: Record<string, LockEntry>;
  try {
    installed = packages(join(repo, "node_modules", ".package-lock.json"));
  } catch {
    return ["node_modules/.package-lock.json is missing: npm ci has not run"];
  }
  const differences: string[] = [];
  for (const [path, entry] of Object.entries(lock)) {
    if (path === "") continue;
    const have = installed[path];
    if (have === undefined) {
      if (entry.optional !== true) differences.push(`${path} missing`);
    } else if (have.version !== entry.version) differences.push(`${path} ${have.version} instead of ${entry.version}`);
  }
  for (const path of Object.keys(installed)) if (!(path in lock)) differences.push(`${path} not in package-lock.json`);
  return differences;
}
