import { parse, type Node } from "acorn";
import { simple, type SimpleVisitors } from "acorn-walk";

/**
 * The syntax gate for code meant to run on Espruino. Parsing at ecmaVersion 2015 already refuses
 * everything newer (`**`, async/await, optional chaining, `??`, class fields and private members,
 * BigInt literals …). The walk then refuses what ES2015 has but Espruino lacks or the project
 * forbids in portable code:
 *
 * - destructuring, spread and rest, default parameters: Espruino lacks them;
 * - generators and `for…of`: both need iterators, and so Symbol.iterator, which Espruino lacks;
 * - tagged templates: Espruino parses plain template literals but not tags; plain ones are allowed;
 * - regular expressions with the `u` or `y` flag: Espruino's regex engine has neither;
 * - references to globals Espruino lacks or that belong to Node (Buffer, Map, Set, Symbol, process …),
 *   and any free name that is not among Espruino's globals (ESPRUINO_GLOBALS; a name declared or
 *   assigned anywhere in the file counts as declared, so this errs towards accepting);
 * - bundler runtime helpers (getter export tables built with Object.defineProperty, __export,
 *   __toESM …): the bundle must expose its API as one plain object.
 *
 * ES2015 classes, arrow functions, let/const and plain template literals are allowed: Espruino
 * runs them.
 */

export const FORBIDDEN_GLOBALS = [
  "Buffer",
  "Map",
  "Set",
  "WeakMap",
  "WeakSet",
  "Symbol",
  "process",
  "require",
  "module",
  "globalThis",
  "TextEncoder",
  "TextDecoder",
  "Reflect",
  "Proxy",
  "BigInt",
] as const;

/** Globals of Espruino's JavaScript (espruino.com/Reference) that portable code may use. */
export const ESPRUINO_GLOBALS = new Set([
  "Array",
  "ArrayBuffer",
  "Boolean",
  "DataView",
  "Date",
  "Error",
  "Float32Array",
  "Float64Array",
  "Function",
  "Int8Array",
  "Int16Array",
  "Int32Array",
  "InternalError",
  "JSON",
  "Math",
  "Number",
  "Object",
  "Promise",
  "RangeError",
  "ReferenceError",
  "RegExp",
  "String",
  "SyntaxError",
  "TypeError",
  "Uint8Array",
  "Uint8ClampedArray",
  "Uint16Array",
  "Uint32Array",
  "E",
  "console",
  "print",
  "global",
  "getTime",
  "setWatch",
  "clearWatch",
  "changeInterval",
  "digitalRead",
  "digitalWrite",
  "digitalPulse",
  "analogRead",
  "analogWrite",
  "pinMode",
  "getSerial",
  "peek8",
  "poke8",
  "Pin",
  "Serial",
  "Serial1",
  "USB",
  "LED1",
  "LED2",
  "LED3",
  "BTN",
  "BTN1",
  "I2C",
  "SPI",
  "NRF",
  "Bluetooth",
  "setTimeout",
  "setInterval",
  "clearTimeout",
  "clearInterval",
  "parseInt",
  "parseFloat",
  "isNaN",
  "isFinite",
  "encodeURIComponent",
  "decodeURIComponent",
  "btoa",
  "atob",
  "NaN",
  "Infinity",
  "undefined",
  "arguments",
]);

const BUNDLER_HELPERS =
  /^__(export|toESM|toCommonJS|commonJS|esm|defProp|getOwnPropNames|getOwnPropDesc|copyProps|reExport|publicField|async|spreadValues|objRest)$/;
const OBJECT_REFLECTION = new Set([
  "defineProperty",
  "defineProperties",
  "getOwnPropertyNames",
  "getOwnPropertyDescriptor",
]);

export interface Violation {
  rule: string;
  line: number;
  column: number;
}

/** Every construct in source that Espruino cannot run or the project forbids; empty when it passes. */
export function espruinoViolations(source: string, extraGlobals: readonly string[] = []): Violation[] {
  let ast: Node;
  try {
    ast = parse(source, { ecmaVersion: 2015, sourceType: "script", locations: true });
  } catch (error) {
    const e = error as { message: string; loc?: { line: number; column: number } };
    return [{ rule: `not ES2015: ${e.message}`, line: e.loc?.line ?? 0, column: e.loc?.column ?? 0 }];
  }
  const found: Violation[] = [];
  const flag = (node: Node, rule: string): void => {
    found.push({ rule, line: node.loc?.start.line ?? 0, column: node.loc?.start.column ?? 0 });
  };
  const declared = new Set<string>();
  const referenced: (Node & { name: string })[] = [];
  const checkName = (node: Node & { name: string }): void => {
    if ((FORBIDDEN_GLOBALS as readonly string[]).includes(node.name)) flag(node, `global ${node.name}`);
    if (BUNDLER_HELPERS.test(node.name)) flag(node, `bundler helper ${node.name}`);
  };
  // VariablePattern (a name being bound or assigned) is a walker category the typings omit.
  const visitors: SimpleVisitors<unknown> & { VariablePattern: (node: Node) => void } = {
    ObjectPattern: (node) => flag(node, "destructuring"),
    ArrayPattern: (node) => flag(node, "destructuring"),
    RestElement: (node) => flag(node, "rest parameter"),
    SpreadElement: (node) => flag(node, "spread"),
    AssignmentPattern: (node) => flag(node, "default parameter"),
    ChainExpression: (node) => flag(node, "optional chaining"),
    AwaitExpression: (node) => flag(node, "async/await"),
    YieldExpression: (node) => flag(node, "generator"),
    ForOfStatement: (node) => flag(node, "for...of"),
    TaggedTemplateExpression: (node) => flag(node, "tagged template"),
    BinaryExpression: (node) => {
      if (node.operator === "**") flag(node, "**");
    },
    Function: (node) => {
      if (node.generator) flag(node, "generator");
      if (node.async) flag(node, "async/await");
    },
    Literal: (node) => {
      if (node.regex && /[uy]/.test(node.regex.flags)) flag(node, `regular expression flag ${node.regex.flags}`);
    },
    Identifier: (node) => {
      checkName(node);
      referenced.push(node);
    },
    VariablePattern: (node: Node) => {
      const named = node as Node & { name: string };
      checkName(named);
      declared.add(named.name);
    },
    MemberExpression: (node) => {
      const { object, property } = node;
      if (
        object.type === "Identifier" &&
        object.name === "Object" &&
        property.type === "Identifier" &&
        OBJECT_REFLECTION.has(property.name)
      ) {
        flag(node, `bundler helper Object.${property.name}`);
      }
    },
  };
  simple(ast, visitors);
  const known = (name: string): boolean =>
    declared.has(name) || ESPRUINO_GLOBALS.has(name) || extraGlobals.includes(name);
  const reported = new Set<string>(FORBIDDEN_GLOBALS);
  for (const node of referenced) {
    if (known(node.name) || reported.has(node.name) || BUNDLER_HELPERS.test(node.name)) continue;
    reported.add(node.name);
    flag(node, `global ${node.name} is not one of Espruino's`);
  }
  return found;
}

/** The violations as readable lines, for assertion messages. */
export function describeViolations(violations: Violation[]): string[] {
  return violations.map((v) => `${v.line}:${v.column} ${v.rule}`);
}
