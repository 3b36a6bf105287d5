import { execFileSync } from "node:child_process";
import { readdirSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));
/** The bundle the bin runs (scripts/build-gateway.mjs). */
export const GATEWAY_BUNDLE = join(repo, "dist", "gateway", "main.js");
/** What the bundle is built from: the gateway's sources, the build script and the package manifest. */
const SOURCES = ["gateway", "transports", "protocol", "scripts/build-gateway.mjs", "package.json"];

let checked = false;

/**
 * Builds the bundle when it is missing or older than a source, once per process. Under vitest the global setup
 * has built it already; a run outside it (npm run fuzz, a bench) would otherwise run a bundle of older sources.
 */
export function ensureGatewayBundle(): void {
  if (checked) return;
  checked = true;
  if (modifiedMs(GATEWAY_BUNDLE) >= Math.max(...SOURCES.map((s) => newestMs(join(repo, s))))) return;
  execFileSync(process.execPath, [join(repo, "scripts", "build-gateway.mjs")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  // The build leaves an unchanged bundle alone: mark it as checked against the sources as they are now.
  const now = new Date();
  utimesSync(GATEWAY_BUNDLE, now, now);
}

function modifiedMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** The newest modification time of a file, or of any file under a folder. */
function newestMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMs(join(path, entry)));
  return newest;
}
