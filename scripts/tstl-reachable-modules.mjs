// A typescript-to-lua plugin: a bundle keeps only the modules its entry reaches through require().
// typescript-to-lua bundles every file of the TypeScript program, and a type-only import puts a file
// in the program (device-client/core/types.ts imports types from protocol/index, which would bring
// the whole codec into a bundle that never calls it). Type-only imports are elided from the Lua
// output, so what the entry requires, and what that requires, is all the bundle runs.
// scripts/build-device-lua.mjs hands it to typescript-to-lua with the tsconfig.device-lua*.json projects.
import fs from "node:fs";
import path from "node:path";

/** The .ts file a require() of `specifier` in `from` names, or undefined (lualib, a Lua module). */
export function resolveRequire(specifier, from) {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base + ".ts", path.join(base, "index.ts")]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const reachableModules = {
  afterPrint(program, options, emitHost, result) {
    if (!options.luaBundle || !options.luaBundleEntry) return;
    const root = path.dirname(options.configFilePath);
    const byName = new Map(result.map((f) => [path.resolve(f.fileName), f]));
    const reached = new Set();
    const pending = [path.resolve(root, options.luaBundleEntry)];
    while (pending.length > 0) {
      const file = pending.pop();
      const processed = byName.get(file);
      if (processed === undefined || reached.has(file)) continue;
      reached.add(file);
      for (const m of processed.code.matchAll(/require\("([^"]+)"\)/g)) {
        const target = resolveRequire(m[1], file);
        if (target !== undefined) pending.push(target);
      }
    }
    for (let i = result.length - 1; i >= 0; i--) {
      if (!reached.has(path.resolve(result[i].fileName))) result.splice(i, 1);
    }
  },
};
