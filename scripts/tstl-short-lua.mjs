// A typescript-to-lua plugin that prints a smaller Lua file from the same Lua syntax tree:
// - `throw new Error(message)` becomes `error(message, 0)`: a Lua error is a string, and the bundle
//   then carries no Error classes (about 2.7 KB of lualib);
// - a top-level `local x = ____module.x` that nothing in the file reads is left out, and so is a lualib
//   feature the file no longer calls (the bundle's lualib holds the features these lines name);
// - properties whose names match `privateNames` (a regular expression source: the members that are
//   not part of the API) get short names, the same in every file of the run (also as method names and
//   as strings: a string equal to such a name is taken for the key it is);
// - typescript-to-lua's own locals (`____exports`, `____self_slotType_0` …) get short names, except
//   `____lualib`, whose lines lualib reads to pick its features.
// Plugin options: { plugin: shortLua, privateNames: "^(…)$" } (scripts/build-device-lua.mjs).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tstl = require("typescript-to-lua");
const { getLuaLibModulesInfo } = require("typescript-to-lua/dist/LuaLib");

const K = tstl.SyntaxKind;

/** Calls visit(node, parent) for every syntax node under node. */
function walk(node, visit, parent) {
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

function isIdentifier(node, text) {
  return node !== undefined && node.kind === K.Identifier && node.text === text;
}

/** error(__TS__New(Error, message), level) → error(message, level). */
function errorsAsStrings(file) {
  walk(file, (node) => {
    if (node.kind !== K.CallExpression || !isIdentifier(node.expression, "error")) return;
    const thrown = node.params[0];
    if (
      thrown !== undefined &&
      thrown.kind === K.CallExpression &&
      isIdentifier(thrown.expression, "__TS__New") &&
      thrown.params.length === 2 &&
      isIdentifier(thrown.params[0], "Error")
    ) {
      node.params[0] = thrown.params[1];
    }
  });
}

/**
 * Drops top-level `local x = ____module.x` that nothing else in the file reads, and the lualib features
 * (printed as such lines) whose functions the file no longer calls.
 */
function unusedImports(file, lualib) {
  const uses = new Map();
  walk(file, (node) => {
    if (node.kind === K.Identifier) uses.set(node.text, (uses.get(node.text) ?? 0) + 1);
  });
  for (const feature of [...file.luaLibFeatures]) {
    if (!lualib[feature].exports.some((name) => uses.has(name))) file.luaLibFeatures.delete(feature);
  }
  file.statements = file.statements.filter((s) => {
    if (s.kind !== K.VariableDeclarationStatement || s.left.length !== 1 || s.right?.length !== 1) return true;
    const name = s.left[0].text;
    const value = s.right[0];
    const imported =
      value.kind === K.TableIndexExpression &&
      value.table.kind === K.Identifier &&
      value.table.text.startsWith("____") &&
      value.index.kind === K.StringLiteral &&
      value.index.value === name;
    return !imported || uses.get(name) !== 1;
  });
}

/** A short name not in `taken`: _0, _1 … _z, _10 … */
function shortName(counter, taken) {
  for (;;) {
    const name = "_" + (counter.next++).toString(36);
    if (!taken.has(name)) return name;
  }
}

export function shortLua(pluginOptions) {
  const privateNames = pluginOptions.privateNames ? new RegExp(pluginOptions.privateNames) : undefined;
  // One map for the whole run: a property keeps its short name across files.
  const properties = new Map();
  const propertyCounter = { next: 0 };
  const propertyNames = new Set();

  function property(name) {
    if (privateNames === undefined || !privateNames.test(name)) return name;
    if (!properties.has(name)) properties.set(name, shortName(propertyCounter, propertyNames));
    return properties.get(name);
  }

  function shortenProperties(file) {
    walk(file, (node) => {
      if (node.kind === K.TableIndexExpression && node.index.kind === K.StringLiteral) {
        propertyNames.add(node.index.value);
      }
    });
    // Every string equal to a private name: typescript-to-lua also keeps a key in a local (`++this.x`
    // becomes `local t, k = self, "x"`). The names are single identifiers, never a message.
    walk(file, (node) => {
      if (node.kind === K.StringLiteral) {
        node.value = property(node.value);
      } else if (node.kind === K.MethodCallExpression) {
        node.name.text = property(node.name.text);
      }
    });
  }

  function shortenLocals(file) {
    const taken = new Set();
    const methodNames = new Set();
    walk(file, (node, parent) => {
      if (node.kind === K.Identifier) taken.add(node.text);
      if (parent?.kind === K.MethodCallExpression && parent.name === node) methodNames.add(node);
    });
    const locals = new Map();
    const counter = { next: 0 };
    walk(file, (node) => {
      if (node.kind !== K.Identifier || methodNames.has(node)) return;
      const text = node.text;
      if (!text.startsWith("____") || text === "____lualib") return;
      if (!locals.has(text)) locals.set(text, shortName(counter, taken));
      node.text = locals.get(text);
    });
  }

  return {
    printer(program, emitHost, fileName, file) {
      errorsAsStrings(file);
      unusedImports(file, getLuaLibModulesInfo(program.getCompilerOptions().luaTarget, emitHost));
      shortenProperties(file);
      shortenLocals(file);
      return new tstl.LuaPrinter(emitHost, program, fileName).print(file);
    },
  };
}
