// Bundles the gateway command (gateway/main.ts and everything it imports from this repository) into one
// ES module for Node, so that the installed gateway starts with plain node: no TypeScript compiler at
// start-up, and one file to read instead of a few hundred. Packages from node_modules stay external
// imports (their native parts, their own files and the optional BLE package load as usual).
//
//   node scripts/build-gateway.mjs [--out dist/gateway/main.js]
//
// `npm ci` runs it (the `prepare` script), and so does `npm pack`. The file is written atomically
// (a test run may start the gateway while another build writes it) and left alone when unchanged.
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeAtomically } from "./write-atomically.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_OUT = path.join(root, "dist", "gateway", "main.js");

/** Builds the gateway into out; returns the byte size of the bundle. */
export async function buildGateway(out = DEFAULT_OUT) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["gateway/main.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    legalComments: "none",
    logLevel: "warning",
    write: false,
    outfile: out,
  });
  const [file] = result.outputFiles;
  writeAtomically(out, file.text);
  return file.contents.byteLength;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const out = path.resolve(values.out ?? DEFAULT_OUT);
  const bytes = await buildGateway(out);
  console.log(`build:gateway: ${path.relative(process.cwd(), out) || out} (${bytes} bytes)`);
}
