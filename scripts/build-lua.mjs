// Compiles TypeScript to Lua 5.1 with typescript-to-lua (the output runs unchanged on 5.1, 5.3, 5.4
// and LuaJIT when the source avoids bitwise operators): one .lua per module in the project's outDir
// and, when the project names a luaBundle, the same modules again in one file that returns the
// luaBundleEntry module's exports.
//
//   node scripts/build-lua.mjs [--project tsconfig.lua.json] [--out DIR] [--bundle FILE] [--entry FILE]
//                              [--no-modules] [--force]
//
// --out, --bundle and --entry (paths from the working directory) override the project's outDir,
// luaBundle and luaBundleEntry; --no-modules writes only the bundle. The default project builds the
// codec: dist/lua/protocol/ and dist/lua/protocol.lua from protocol/index.ts.
//
// Several builds may run at once in one tree (parallel test runs): every file is written to a
// temporary name beside its target and renamed into place, so a reader never sees half a file,
// and a file whose content is unchanged is not touched at all. A stamp under dist/.build-stamps
// records a hash of every input; when nothing changed the build is skipped (--force rebuilds).
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeAtomically } from "./write-atomically.mjs";

const DEFAULT_PROJECT = "tsconfig.lua.json";

function report(ts, diagnostics) {
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length === 0) return;
  const host = { getCurrentDirectory: () => process.cwd(), getCanonicalFileName: (f) => f, getNewLine: () => "\n" };
  throw new Error(`build:lua failed:\n${ts.formatDiagnostics(errors, host)}`);
}

function collect(files) {
  return (fileName, code) => {
    files.set(path.resolve(fileName), code);
  };
}

function readOr(file, otherwise) {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return otherwise;
  }
}

/**
 * A hash of everything the output depends on: this script, the compiler version, the options, the
 * tsconfig chain, and every .ts file under the folders the sources came from (so an added file counts).
 */
function inputHash(options, configFiles, sourceDirs) {
  const hash = createHash("sha256");
  const tstlVersion = JSON.parse(readFileSync(new URL(import.meta.resolve("typescript-to-lua/package.json")), "utf8"));
  hash.update(JSON.stringify({ options, tstl: tstlVersion.version, script: readOr(new URL(import.meta.url), "") }));
  const files = [...configFiles];
  for (const dir of sourceDirs) files.push(...tsFilesUnder(dir));
  for (const file of [...new Set(files)].sort()) hash.update(`\0${file}\0${readOr(file, "")}`);
  return hash.digest("hex");
}

function listDir(dir) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function tsFilesUnder(dir) {
  const files = [];
  for (const entry of listDir(dir)) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") files.push(...tsFilesUnder(file));
    else if (entry.name.endsWith(".ts")) files.push(file);
  }
  return files;
}

function stampPath(key) {
  const name = createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 12);
  return path.resolve("dist/.build-stamps", `lua-${path.basename(key.project, ".json")}-${name}.json`);
}

/** The files of an earlier build, when its stamp matches the inputs now and every output is intact. */
function upToDate(options) {
  const stamp = JSON.parse(readOr(stampPath(options), "null"));
  if (!stamp || inputHash(options, stamp.configFiles, stamp.sourceDirs) !== stamp.inputs) return undefined;
  for (const [file, digest] of Object.entries(stamp.outputs)) {
    if (!existsSync(file) || createHash("sha256").update(readFileSync(file)).digest("hex") !== digest) return undefined;
  }
  return Object.keys(stamp.outputs);
}

/**
 * Builds the project; returns the paths written (per-module files, then the bundle if any).
 * Options: project, out, bundle, entry (override the project's outDir, luaBundle, luaBundleEntry),
 * modules (false: bundle only), force (ignore the stamp).
 */
export function buildLua(options = {}) {
  const project = options.project ?? DEFAULT_PROJECT;
  const key = {
    project,
    out: options.out,
    bundle: options.bundle,
    entry: options.entry,
    modules: options.modules !== false,
  };
  if (!options.force) {
    const built = upToDate(key);
    if (built) return built;
  }
  // Loaded only when there is work to do: the compiler takes most of a second to load.
  const require = createRequire(import.meta.url);
  const ts = require("typescript");
  const tstl = require("typescript-to-lua");
  const overrides = {};
  if (options.out !== undefined) overrides.outDir = path.resolve(options.out);
  if (options.bundle !== undefined) overrides.luaBundle = path.resolve(options.bundle);
  if (options.entry !== undefined) overrides.luaBundleEntry = path.resolve(options.entry);
  const parsed = tstl.parseConfigFileWithSystem(project, overrides);
  report(ts, parsed.errors);
  const { luaBundle, luaBundleEntry, ...moduleOptions } = parsed.options;
  const outDir = path.resolve(moduleOptions.outDir ?? path.dirname(project));

  const extended = parsed.options.configFile?.extendedSourceFiles ?? [];
  const configFiles = [project, ...extended].map((f) => path.resolve(f));
  // Hashed before the compiler reads anything and again after it wrote: an edit during the build
  // leaves no stamp, so the next run builds again.
  const listedDirs = [...new Set(parsed.fileNames.map((f) => path.dirname(path.resolve(f))))];
  const before = inputHash(key, configFiles, listedDirs);
  const program = ts.createProgram(parsed.fileNames, moduleOptions);
  const sources = program
    .getSourceFiles()
    .filter((f) => !program.isSourceFileFromExternalLibrary(f) && !f.fileName.includes("/node_modules/"));
  const sourceDirs = [...new Set(sources.map((f) => path.dirname(path.resolve(f.fileName))))];
  report(ts, ts.getPreEmitDiagnostics(program));
  const modules = new Map();
  if (options.modules !== false) {
    report(ts, new tstl.Transpiler().emit({ program, writeFile: collect(modules) }).diagnostics);
  }

  const bundled = new Map();
  if (luaBundle) {
    if (!luaBundleEntry)
      throw new Error(`build:lua: ${project} names a luaBundle but no luaBundleEntry (or pass --entry)`);
    // The old program lends its parsed source files, so the second pass costs only the emit.
    const bundleProgram = ts.createProgram(parsed.fileNames, parsed.options, undefined, program);
    report(ts, new tstl.Transpiler().emit({ program: bundleProgram, writeFile: collect(bundled) }).diagnostics);
  }

  for (const [file, code] of modules) writeAtomically(file, code);
  // Remove modules left over from sources that no longer exist.
  if (modules.size > 0) {
    for (const { name } of listDir(outDir)) {
      const file = path.join(outDir, name);
      if (name.endsWith(".lua") && !modules.has(file) && !bundled.has(file)) rmSync(file, { force: true });
    }
  }
  for (const [file, code] of bundled) writeAtomically(file, code);

  const outputs = {};
  for (const [file, code] of [...modules, ...bundled]) outputs[file] = createHash("sha256").update(code).digest("hex");
  if (inputHash(key, configFiles, listedDirs) === before) {
    const stamp = { inputs: inputHash(key, configFiles, sourceDirs), configFiles, sourceDirs, outputs };
    writeAtomically(stampPath(key), JSON.stringify(stamp, null, 2) + "\n");
  }
  return Object.keys(outputs);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      project: { type: "string" },
      out: { type: "string" },
      bundle: { type: "string" },
      entry: { type: "string" },
      "no-modules": { type: "boolean" },
      force: { type: "boolean" },
    },
  });
  const { "no-modules": noModules, ...options } = values;
  const written = buildLua({ ...options, modules: !noModules });
  console.log(
    `build:lua: ${written.length} files: ${[...new Set(written.map((f) => path.relative(".", path.dirname(f))))].join(", ")}`,
  );
}
