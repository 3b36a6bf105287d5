// Turns esbuild's ES module output for an Espruino bundle into a plain script whose top-level
// functions, classes and variables are globals, each renamed `prefix + name` (references included,
// found by scope analysis, so a nested name that shadows one is left alone).
//
// Why: Espruino links every function defined inside another function to that function's scope, one
// variable per function, for as long as the function lives. A bundle wrapped in a function (an IIFE)
// pays that for every function and method it defines; defined at the top level, none do. The prefix
// keeps the bundle's names apart from the application's: pick one no other script on the board uses
// for its globals. The bundle must export nothing.
import * as acorn from "acorn";
import { analyze } from "eslint-scope";
import { applyEdits, children } from "./espruino-ast.mjs";

export function topLevel(code, prefix) {
  const ast = acorn.parse(code, { ecmaVersion: 2020, sourceType: "module", ranges: true });
  if (ast.body.some((n) => n.type.startsWith("Export") || n.type === "ImportDeclaration")) {
    throw new Error("espruino-top-level: the bundle has imports or exports");
  }
  const moduleScope = analyze(ast, { ecmaVersion: 2020, sourceType: "module" }).globalScope.childScopes[0];
  // Shorthand properties ({a}) name a variable and a key at once: the key keeps its name.
  const shorthand = new Set();
  const visit = (node) => {
    if (node.type === "Property" && node.shorthand) shorthand.add(node.value.start);
    for (const c of children(node)) visit(c);
  };
  visit(ast);
  const edits = new Map();
  for (const v of moduleScope.variables) {
    const name = prefix + v.name;
    const ids = [...v.defs.map((d) => d.name), ...v.references.map((r) => r.identifier)];
    for (const id of ids) {
      edits.set(id.start, { start: id.start, end: id.end, text: shorthand.has(id.start) ? `${v.name}:${name}` : name });
    }
  }
  return applyEdits(code, edits.values());
}
