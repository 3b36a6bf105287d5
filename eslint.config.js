import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Constructs Espruino and typescript-to-lua (Lua 5.1) cannot run: banned in the portable folders. */
const portable = [
  {
    selector: "BinaryExpression[operator=/^(&|\\||\\^|<<|>>|>>>)$/]",
    message: "no bitwise operators: Lua 5.1 has none",
  },
  { selector: "UnaryExpression[operator='~']", message: "no bitwise operators: Lua 5.1 has none" },
  { selector: "AssignmentExpression[operator=/^(&=|\\|=|\\^=|<<=|>>=|>>>=)$/]", message: "no bitwise operators" },
  { selector: "BinaryExpression[operator='**']", message: "no ** : Espruino lacks it" },
  { selector: "ObjectPattern", message: "no destructuring: Espruino lacks it" },
  { selector: "ArrayPattern", message: "no destructuring: Espruino lacks it" },
  { selector: "SpreadElement", message: "no spread: Espruino lacks it" },
  { selector: "RestElement", message: "no rest parameters: Espruino lacks them" },
  { selector: "AssignmentPattern", message: "no default parameters: Espruino lacks them" },
  { selector: "ChainExpression", message: "no optional chaining: Espruino lacks it" },
  { selector: "LogicalExpression[operator='??']", message: "no ?? : Espruino lacks it" },
  {
    selector: "FunctionDeclaration[async=true], ArrowFunctionExpression[async=true], FunctionExpression[async=true]",
    message: "no async: Espruino lacks it",
  },
  { selector: "FunctionDeclaration[generator=true], FunctionExpression[generator=true]", message: "no generators" },
  {
    selector:
      "NewExpression[callee.name=/^(Uint8Array|Int8Array|Uint16Array|Int16Array|Uint32Array|Int32Array|Float32Array|Float64Array|ArrayBuffer|DataView|Map|Set|WeakMap|Symbol)$/]",
    message: "not portable to Lua",
  },
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["protocol/**/*.ts", "device-client/core/**/*.ts"],
    rules: { "no-restricted-syntax": ["error", ...portable] },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", Buffer: "readonly" } },
  },
);
