// Helpers over typescript-to-lua's Lua syntax tree, for the plugins of scripts/build-device-lua.mjs.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const tstl = require("typescript-to-lua");
const { getLuaLibModulesInfo } = require("typescript-to-lua/dist/LuaLib");

export const K = tstl.SyntaxKind;

/** Calls visit(node, parent) for every syntax node under node. */
export function walk(node, visit, parent) {
  if (node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit, parent);
    return;
  }
  if (typeof node.kind === "number") visit(node, parent);
  for (const key of Object.keys(node)) {
    if (key !== "tsOriginal" && key !== "luaLibFeatures") walk(node[key], visit, node);
  }
}

export function isIdentifier(node, text) {
  return node !== undefined && node.kind === K.Identifier && node.text === text;
}

/** How many times each name occurs as an identifier under node. */
export function identifierCounts(node) {
  const uses = new Map();
  walk(node, (n) => {
    if (n.kind === K.Identifier) uses.set(n.text, (uses.get(n.text) ?? 0) + 1);
  });
  return uses;
}

/**
 * Drops the file's lualib features whose functions it no longer calls: the printer writes a
 * `local f = ____lualib.f` line per feature, and the bundle's lualib holds the features these lines name.
 */
export function dropUnusedLualib(file, program, emitHost) {
  const lualib = getLuaLibModulesInfo(program.getCompilerOptions().luaTarget, emitHost);
  const uses = identifierCounts(file);
  for (const feature of [...file.luaLibFeatures]) {
    if (!lualib[feature].exports.some((name) => uses.has(name))) file.luaLibFeatures.delete(feature);
  }
}
