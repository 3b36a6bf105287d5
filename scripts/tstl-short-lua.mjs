// A typescript-to-lua plugin that prints a smaller Lua file from the same Lua syntax tree:
// - `throw new Error(message)` becomes `error(message, 0)`: a Lua error is a string, and the bundle
//   then carries no Error classes (about 2.7 KB of lualib);
// - a top-level `local x = ____module.x` that nothing in the file reads is left out, and so is a lualib
//   feature the file no longer calls (the bundle's lualib holds the features these lines name);
// - properties whose names match `privateNames` (a regular expression source: the members that are
//   not part of the API) get short names, the same in every file of the run (also as method names and
//   as strings: a string equal to such a name is taken for the key it is);
// - every local name the file declares (parameters, `self`, typescript-to-lua's `____exports` …) gets
//   a short one, and so does every module of the bundle.
// Plugin options: { plugin: shortLua, privateNames: "^(…)$" } (scripts/build-device-lua.mjs).
import { dropUnusedLualib, identifierCounts, isIdentifier, K, tstl, walk } from "./tstl-lua-ast.mjs";

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

/** Drops top-level `local x = ____module.x` that nothing else in the file reads. */
function unusedImports(file) {
  const uses = identifierCounts(file);
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

const KEYWORDS = new Set(
  "and break do else elseif end false for function goto if in local nil not or repeat return then true until while".split(
    " ",
  ),
);
const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** A short name that is no keyword and not in `taken`: a … Z, aa, ba … */
function freshName(counter, taken) {
  for (;;) {
    let n = counter.next++;
    let name = "";
    do {
      name += LETTERS[n % LETTERS.length];
      n = Math.floor(n / LETTERS.length) - 1;
    } while (n >= 0);
    if (!taken.has(name) && !KEYWORDS.has(name)) return name;
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
    if (!properties.has(name)) properties.set(name, freshName(propertyCounter, propertyNames));
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

  /**
   * Gives every name the file declares (locals, parameters, loop variables, `self` included) a short
   * one. A one-to-one renaming of every occurrence to names the file does not use keeps each scope as
   * it was. Names never declared here are left alone: Lua's globals, lualib's functions (their
   * `local` lines are printed later from the file's lualib features) and `____lualib`.
   */
  function shortenDeclared(file) {
    const used = new Set();
    const declared = new Map();
    const methodNames = new Set();
    const declare = (identifier) => declared.set(identifier.text, (declared.get(identifier.text) ?? 0) + 1);
    walk(file, (node, parent) => {
      if (node.kind === K.Identifier) {
        if (parent?.kind === K.MethodCallExpression && parent.name === node) methodNames.add(node);
        else used.add(node.text);
      } else if (node.kind === K.VariableDeclarationStatement) {
        node.left.forEach(declare);
      } else if (node.kind === K.FunctionExpression) {
        (node.params ?? []).forEach(declare);
      } else if (node.kind === K.ForStatement) {
        declare(node.controlVariable);
      } else if (node.kind === K.ForInStatement) {
        node.names.forEach(declare);
      }
    });
    // Counted where declared, then everywhere: the most used names get the shortest.
    for (const name of declared.keys()) declared.set(name, 0);
    walk(file, (node) => {
      if (node.kind === K.Identifier && declared.has(node.text) && !methodNames.has(node)) {
        declared.set(node.text, declared.get(node.text) + 1);
      }
    });
    const renamed = new Map();
    const counter = { next: 0 };
    for (const [name] of [...declared].sort((a, b) => b[1] - a[1])) {
      if (name !== "____lualib") renamed.set(name, freshName(counter, used));
    }
    const done = new Set();
    walk(file, (node) => {
      if (node.kind === K.Identifier && !methodNames.has(node) && !done.has(node) && renamed.has(node.text)) {
        node.text = renamed.get(node.text);
        done.add(node);
      }
    });
  }

  return {
    printer(program, emitHost, fileName, file) {
      errorsAsStrings(file);
      unusedImports(file);
      dropUnusedLualib(file, program, emitHost);
      shortenProperties(file);
      shortenDeclared(file);
      return new tstl.LuaPrinter(emitHost, program, fileName).print(file);
    },
    beforeEmit(program, options, emitHost, result) {
      if (options.luaBundle) for (const bundle of result) bundle.code = shortModuleNames(bundle.code);
    },
  };
}

/**
 * The module names of a bundle (`["device-client.core.session"] = function(...)` and the require()
 * calls naming it) become short ones. No other string of the bundle is a module name.
 */
function shortModuleNames(code) {
  const names = [...code.matchAll(/^\["([^"\n]+)"\] = function\(\.\.\.\)/gm)].map((m) => m[1]);
  const counter = { next: 0 };
  const taken = new Set(names);
  let out = code;
  for (const name of names) out = out.split(JSON.stringify(name)).join(JSON.stringify(freshName(counter, taken)));
  return out;
}
