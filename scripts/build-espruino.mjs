// Bundles protocol/ into one minified ES2015 file for Espruino with esbuild.
import { build } from "esbuild";

await build({
  entryPoints: ["protocol/index.ts"],
  bundle: true,
  minify: true,
  target: "es2015",
  format: "iife",
  globalName: "MQTTSN",
  outfile: "dist/espruino/protocol.min.js",
  logLevel: "warning",
});
console.log("build:espruino: dist/espruino/protocol.min.js");
