// A typescript-to-lua plugin that leaves out the top-level functions and constants of a bundle's
// modules that nothing running reaches: typescript-to-lua removes no dead code, and a module the
// bundle needs comes whole (protocol/text.ts brings readUtf8 to the sensor profile, which only writes
// names). Runs after tstl-reachable-modules.mjs, on the Lua syntax trees of the modules kept.
//
// What counts as used: every statement of the entry module (its exports are the API); every
// top-level statement that is not a definition below; and, from those, whatever they read, again
// and again: a module's own locals by name, another module's export `m.f` through the local its
// require() result is kept in (a module table used any other way keeps all its exports).
// What may be left out, when unused: `local f = <pure>` and `exports.f = <pure>`, where pure is a
// function, a literal, a name, a field of a name, or operators over those (no call, nothing runs).
import path from "node:path";
import { dropUnusedLualib, isIdentifier, K, tstl, walk } from "./tstl-lua-ast.mjs";
import { resolveRequire } from "./tstl-reachable-modules.mjs";

function isPure(e) {
  switch (e.kind) {
    case K.FunctionExpression:
    case K.StringLiteral:
    case K.NumericLiteral:
    case K.NilKeyword:
    case K.TrueKeyword:
    case K.FalseKeyword:
    case K.Identifier:
      return true;
    case K.TableIndexExpression:
      return e.table.kind === K.Identifier && e.index.kind === K.StringLiteral;
    case K.UnaryExpression:
      return isPure(e.operand);
    case K.BinaryExpression:
      return isPure(e.left) && isPure(e.right);
    case K.ParenthesizedExpression:
      return isPure(e.expression);
    default:
      return false;
  }
}

/** The name of the table a module returns (typescript-to-lua's `____exports`), or undefined. */
function exportsName(file) {
  const last = file.statements[file.statements.length - 1];
  return last?.kind === K.ReturnStatement && last.expressions.length === 1 && last.expressions[0].kind === K.Identifier
    ? last.expressions[0].text
    : undefined;
}

/** What a statement may read or define: keys of the liveness walk. */
const localKey = (module, name) => `local\0${module}\0${name}`;
const fieldKey = (module, field) => `field\0${module}\0${field}`;
const moduleKey = (module) => `module\0${module}`;

/**
 * One module: its definitions (statement → the local or field key it defines) and, per statement,
 * the keys it reads: locals by name (whatever scope: a name read anywhere keeps its definition),
 * fields of its own and of required modules, whole modules.
 */
function analyse(f) {
  const file = f.luaAst;
  const self = path.resolve(f.fileName);
  const own = exportsName(file);
  const required = new Map([[own, [self]]]);
  walk(file, (node) => {
    if (node.kind !== K.VariableDeclarationStatement || node.left.length !== 1 || node.right?.length !== 1) return;
    const call = node.right[0];
    if (call.kind === K.CallExpression && isIdentifier(call.expression, "require")) {
      const target =
        call.params[0]?.kind === K.StringLiteral ? resolveRequire(call.params[0].value, f.fileName) : undefined;
      if (target === undefined) return;
      const name = node.left[0].text;
      required.set(name, [...(required.get(name) ?? []), target]);
    }
  });
  const definitions = new Map();
  const reads = new Map();
  for (const s of file.statements) {
    if (
      s.kind === K.VariableDeclarationStatement &&
      s.left.length === 1 &&
      s.right?.length === 1 &&
      isPure(s.right[0])
    ) {
      definitions.set(s, localKey(self, s.left[0].text));
    } else if (
      s.kind === K.AssignmentStatement &&
      s.left.length === 1 &&
      s.right.length === 1 &&
      isPure(s.right[0]) &&
      s.left[0].kind === K.TableIndexExpression &&
      isIdentifier(s.left[0].table, own) &&
      s.left[0].index.kind === K.StringLiteral
    ) {
      definitions.set(s, fieldKey(self, s.left[0].index.value));
    }
    const defined = definitions.has(s)
      ? s.kind === K.VariableDeclarationStatement
        ? s.left[0]
        : s.left[0].table
      : undefined;
    const read = new Set();
    walk(s, (node, parent) => {
      if (node.kind !== K.Identifier || node === defined) return;
      if (parent?.kind === K.MethodCallExpression && parent.name === node) return;
      read.add(localKey(self, node.text));
      const field =
        parent?.kind === K.TableIndexExpression && parent.table === node && parent.index.kind === K.StringLiteral
          ? parent.index.value
          : undefined;
      // Neither `return ____exports` nor `local m = require(…)` hands a module table to anything.
      const returned = node.text === own && s.kind === K.ReturnStatement;
      const declared = parent?.kind === K.VariableDeclarationStatement && parent.left.includes(node);
      for (const m of required.get(node.text) ?? []) {
        if (field !== undefined) read.add(fieldKey(m, field));
        else if (!returned && !declared) read.add(moduleKey(m));
      }
    });
    reads.set(s, read);
  }
  return { self, definitions, reads };
}

export const unusedFunctions = {
  afterPrint(program, options, emitHost, result) {
    if (!options.luaBundle || !options.luaBundleEntry) return;
    const entry = path.resolve(path.dirname(options.configFilePath), options.luaBundleEntry);
    const modules = result.filter((f) => f.luaAst !== undefined).map((f) => ({ f, ...analyse(f) }));
    // The statements defining each key; a whole module's key stands for all its fields.
    const definedBy = new Map();
    const define = (key, s) => definedBy.set(key, [...(definedBy.get(key) ?? []), s]);
    const live = new Set();
    const pending = [];
    const reach = (key) => {
      if (!live.has(key)) {
        live.add(key);
        pending.push(key);
      }
    };
    const moduleOf = new Map();
    for (const m of modules) {
      for (const s of m.f.luaAst.statements) {
        moduleOf.set(s, m);
        const key = m.definitions.get(s);
        if (key === undefined || m.self === entry) {
          reach(s);
          continue;
        }
        define(key, s);
        if (key.startsWith("field\0")) define(moduleKey(m.self), s);
      }
    }
    while (pending.length > 0) {
      const key = pending.pop();
      if (typeof key === "string") {
        for (const s of definedBy.get(key) ?? []) reach(s);
      } else {
        const m = moduleOf.get(key);
        for (const r of m.reads.get(key)) reach(r);
      }
    }
    for (const m of modules) {
      const file = m.f.luaAst;
      const kept = file.statements.filter((s) => live.has(s));
      if (kept.length === file.statements.length) continue;
      file.statements = kept;
      dropUnusedLualib(file, program, emitHost);
      const printed = new tstl.LuaPrinter(emitHost, program, m.f.fileName).print(file);
      m.f.code = printed.code;
      m.f.sourceMap = printed.sourceMap;
      m.f.sourceMapNode = printed.sourceMapNode;
    }
  },
};
