// A size pass over esbuild's minified output for the Espruino bundles: in every function that names
// `this` often, `this` becomes a one-letter local set once at the top of the function:
//   m(t){this.a=t,this.b(this.c)}   ->   m(t){let T=this;T.a=t,T.b(T.c)}
//   m(t){let e=this.h;this.b(e)}    ->   m(t){let T=this,e=T.h;T.b(e)}
// esbuild does not do this (it keeps `this` as written). Arrow functions see their enclosing
// function's `this`, so their uses count with it; a nested non-arrow function has its own. A derived
// class's constructor is left alone (`this` does not exist before super() returns). The local name
// is one that the bundle does not use anywhere, so nothing can shadow it. Only the code's size
// changes, and while the function runs, one variable more.
import * as acorn from "acorn";
import { applyEdits, children } from "./espruino-ast.mjs";

/**
 * Uses of `this` below which a function keeps it. `let T=this;` costs 11 characters (`T=this,` in a
 * first `let`, 7) and a use saves 3, so from four uses on the code is shorter; the local is one more
 * variable while the function runs, callbacks into the application included (receive, finish).
 */
const MIN_USES = 4;

/**
 * A function that calls one of these (the application's callbacks, and the client's receive, which
 * calls them) is still running while the application's code runs: it keeps `this` below
 * CALLBACK_MIN_USES, so that a board does not hold its local meanwhile.
 */
const CALLBACKS = new Set(["done", "stateChanged", "ready", "message", "receive"]);
const CALLBACK_MIN_USES = 8;

/** A name no variable of the bundle has (property names do not count: they cannot shadow). */
function freeName(ast) {
  const used = new Set();
  const visit = (node) => {
    if (node.type === "Identifier") used.add(node.name);
    for (const c of children(node)) {
      const key =
        (node.type === "MemberExpression" && c === node.property) ||
        ((node.type === "Property" || node.type === "MethodDefinition") && c === node.key && !node.shorthand);
      if (!(key && !node.computed)) visit(c);
    }
  };
  visit(ast);
  const letters = "TQZXKJVWYGHUBNMPLOIRSEDCFA$_";
  for (const first of letters) if (!used.has(first)) return first;
  for (const first of letters) for (const second of letters) if (!used.has(first + second)) return first + second;
  throw new Error("espruino-this-alias: no free name");
}

/** Rewrites code (an ES2015 script) as described above. */
export function aliasThis(code) {
  const ast = acorn.parse(code, { ecmaVersion: 2020, sourceType: "script" });
  const alias = freeName(ast);
  const edits = [];
  // Walks the tree keeping the nearest non-arrow function; derived: inside a derived class's constructor.
  const visit = (node, owner, derivedConstructor) => {
    if (node.type === "ThisExpression" && owner !== null) owner.uses.push(node);
    if (
      owner !== null &&
      node.type === "CallExpression" &&
      node.callee.type === "MemberExpression" &&
      !node.callee.computed &&
      CALLBACKS.has(node.callee.property.name)
    ) {
      owner.callsBack = true;
    }
    let nextOwner = owner;
    if (node.type === "FunctionExpression" || node.type === "FunctionDeclaration") {
      nextOwner = { fn: node, uses: [], skip: derivedConstructor };
      owners.push(nextOwner);
    }
    for (const c of children(node)) {
      const derived =
        node.type === "MethodDefinition" && node.kind === "constructor" && c === node.value
          ? node.derived === true
          : false;
      visit(c, nextOwner, derived);
    }
  };
  const owners = [];
  // Mark constructors of classes with a superclass.
  const mark = (node) => {
    if ((node.type === "ClassDeclaration" || node.type === "ClassExpression") && node.superClass !== null) {
      for (const m of node.body.body) if (m.type === "MethodDefinition" && m.kind === "constructor") m.derived = true;
    }
    for (const c of children(node)) mark(c);
  };
  mark(ast);
  visit(ast, null, false);
  for (const o of owners) {
    const min = o.callsBack === true ? CALLBACK_MIN_USES : MIN_USES;
    if (o.skip || o.uses.length < min || o.fn.body.type !== "BlockStatement") continue;
    // Into the function's first `let` when it begins with one: `let T=this,e=T.h` (the local is set first).
    const first = o.fn.body.body[0];
    if (first !== undefined && first.type === "VariableDeclaration" && code.startsWith("let ", first.start)) {
      edits.push({ start: first.start + 4, end: first.start + 4, text: `${alias}=this,` });
    } else {
      edits.push({ start: o.fn.body.start + 1, end: o.fn.body.start + 1, text: `let ${alias}=this;` });
    }
    for (const u of o.uses) edits.push({ start: u.start, end: u.end, text: alias });
  }
  return applyEdits(code, edits);
}
