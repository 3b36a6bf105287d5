import { execFileSync } from "node:child_process";

/** Builds the Lua and Espruino targets and the gateway bundle (dist/gateway/main.js) once, before any suite runs them. */
export default function setup(): void {
  execFileSync("node", ["scripts/build-lua.mjs"], { stdio: "inherit" });
  execFileSync("node", ["scripts/build-espruino.mjs"], { stdio: "inherit" });
  execFileSync("node", ["scripts/build-gateway.mjs"], { stdio: "inherit" });
}
