// Bundles the gateway command (gateway/main.ts, the project's modules and the pure-JavaScript packages they
// import) into one ES module for Node, so that the installed gateway starts with plain node: no TypeScript
// compiler at start-up and one file to read instead of a few hundred (loading the packages' files one by one
// took about as long as everything else the gateway does before it is ready).
//
//   node scripts/build-gateway.mjs [--out dist/gateway/main.js]
//
// The packages in EXTERNAL stay imports, resolved in node_modules when the gateway runs: native addons and what
// is loaded only on demand. Each must be a dependency (or optional dependency), so that it is installed with
// the package. Every other package the gateway imports is bundled, and its licence is written beside the bundle
// in THIRD-PARTY-NOTICES.txt.
//
// `npm ci` runs it (the `prepare` script; esbuild and the bundled packages are dependencies, so that
// `npm ci --omit=dev` in a checkout builds too), and so does `npm pack`. Files are written atomically (a test
// run may start the gateway while another build writes it) and left alone when unchanged.
import { build } from "esbuild";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeAtomically } from "./write-atomically.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_OUT = path.join(root, "dist", "gateway", "main.js");
export const NOTICES = "THIRD-PARTY-NOTICES.txt";

/** Bundled CommonJS packages call require() for Node's own modules; an ES module has to make one. */
const REQUIRE_BANNER =
  'import { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);';

const EXTERNAL = [
  // native addon (LevelDB), loaded when the session store is first opened
  "classic-level",
  // native addon, loaded when a serial port is first opened
  "serialport",
  "@serialport/stream",
  // optional native addon for Bluetooth LE, loaded by name when ble is configured
  "@stoprocent/noble",
  // DTLS (and its 1.5 MB of X.509 and ASN.1 code), loaded when a DTLS listener opens
  "werift-dtls",
  // loaded when the HTTP listener is on
  "prom-client",
];

/**
 * readable-stream is a copy of Node's own stream module for other runtimes; bl, which mqtt-packet's parser
 * uses, imports it. Node's module serves it as it is: 200 KB less to compile at every start.
 */
const ALIAS = { "readable-stream": "node:stream" };

/** Throws unless every external package is installed with the package. */
function checkExternals() {
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const installed = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
  ]);
  const missing = EXTERNAL.filter((name) => !installed.has(name));
  if (missing.length > 0)
    throw new Error(`build:gateway: ${missing.join(", ")} stay external but are not dependencies in package.json`);
}

/** The folder of the package an input file belongs to ("node_modules/a/node_modules/@s/b/x.js" → ".../@s/b"). */
function packageFolder(input) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m === null ? undefined : m[1];
}

function licenceText(folder) {
  const file = readdirSync(folder).find((f) => /^(licen[cs]e|copying)(\.(md|txt|markdown))?$/i.test(f));
  return file === undefined ? undefined : readFileSync(path.join(folder, file), "utf8").trim();
}

/** One notice per bundled package: name, version, licence, and the licence text the package ships. */
function notices(inputs) {
  const folders = [
    ...new Set(
      Object.keys(inputs)
        .map(packageFolder)
        .filter((f) => f !== undefined),
    ),
  ];
  const entries = folders.map((folder) => {
    const absolute = path.join(root, folder);
    const manifest = JSON.parse(readFileSync(path.join(absolute, "package.json"), "utf8"));
    const text = licenceText(absolute) ?? `(the package ships no licence file; package.json says ${manifest.license})`;
    return { id: `${manifest.name}@${manifest.version}`, licence: manifest.license, text };
  });
  entries.sort((a, b) => a.id.localeCompare(b.id));
  const header =
    "The gateway bundle (main.js) includes the following packages, each under its own licence.\n" +
    "This project's own code is under the Apache License 2.0 (LICENSE).\n";
  return [header, ...entries.map((e) => `${"=".repeat(78)}\n${e.id} (${e.licence})\n\n${e.text}\n`)].join("\n");
}

/** Builds the gateway into out, with the notices beside it; returns the byte size of the bundle. */
export async function buildGateway(out = DEFAULT_OUT) {
  checkExternals();
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["gateway/main.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: EXTERNAL,
    alias: ALIAS,
    banner: { js: REQUIRE_BANNER },
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
    write: false,
    outfile: out,
  });
  const [file] = result.outputFiles;
  writeAtomically(out, file.text);
  writeAtomically(path.join(path.dirname(out), NOTICES), notices(result.metafile.inputs));
  return file.contents.byteLength;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const out = path.resolve(values.out ?? DEFAULT_OUT);
  const bytes = await buildGateway(out);
  console.log(`build:gateway: ${path.relative(process.cwd(), out) || out} (${bytes} bytes)`);
}
