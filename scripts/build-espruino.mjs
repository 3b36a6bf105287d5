// Bundles a TypeScript entry into one minified ES2015 file for Espruino, exposing the entry's
// exports as one plain global object: no module system, no bundler runtime helpers (no getter
// export tables, no __export/__toESM), so the file runs at Espruino's language level.
//
//   node scripts/build-espruino.mjs [--entry protocol/index.ts] [--out dist/espruino/protocol.min.js]
//                                   [--global MQTTSN]
//
// esbuild bundles the entry as an ES module; the closing `export { a as decode, ... }` is then
// replaced by `return { decode: a, ... }` inside a function whose result is assigned to the global:
//   var MQTTSN = (function () { ...bundle...; return { decode: a, ... }; })();
// The result is minified again and written atomically (test runs may build at the same time).
import * as acorn from "acorn";
import { build, transform } from "esbuild";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeAtomically } from "./write-atomically.mjs";

const DEFAULTS = { entry: "protocol/index.ts", out: "dist/espruino/protocol.min.js", global: "MQTTSN" };

/** Moves the module's export list into a function that returns it as a plain object. */
function exportsToObject(code, globalName) {
  const ast = acorn.parse(code, { ecmaVersion: "latest", sourceType: "module" });
  const fields = [];
  let body = "";
  let from = 0;
  for (const node of ast.body) {
    if (node.type === "ExportDefaultDeclaration" || node.type === "ExportAllDeclaration" || node.declaration) {
      throw new Error(`build:espruino: unexpected ${node.type} in esbuild output`);
    }
    if (node.type !== "ExportNamedDeclaration") continue;
    for (const s of node.specifiers) fields.push(`${JSON.stringify(s.exported.name)}:${s.local.name}`);
    body += code.slice(from, node.start);
    from = node.end;
  }
  body += code.slice(from);
  return `var ${globalName}=(function(){${body}\nreturn{${fields.join(",")}};})();\n`;
}

/** Builds entry into out; returns the byte size written. */
export async function buildEspruino(options = {}) {
  const { entry, out, global: globalName } = { ...DEFAULTS, ...options };
  const bundled = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    target: "es2015",
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "warning",
  });
  const wrapped = exportsToObject(bundled.outputFiles[0].text, globalName);
  const minified = await transform(wrapped, { minify: true, target: "es2015", format: undefined, logLevel: "warning" });
  writeAtomically(path.resolve(out), minified.code);
  return Buffer.byteLength(minified.code);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: { entry: { type: "string" }, out: { type: "string" }, global: { type: "string" } },
  });
  const bytes = await buildEspruino(values);
  console.log(`build:espruino: ${values.out ?? DEFAULTS.out} (${bytes} bytes)`);
}
