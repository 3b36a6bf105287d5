#!/usr/bin/env node
// The mqttsn-gateway command runs the gateway as bundled to dist/ (`npm run build`, which `npm ci` and
// `npm pack` run), on plain node: nothing is compiled at start-up.
import { existsSync } from "node:fs";

const main = new URL("../dist/gateway/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("mqttsn-gateway: dist/gateway/main.js is missing; build it with `npm run build`\n");
  process.exit(1);
}
await import(main.href);
