// Compiles protocol/ to Lua 5.1 (runs unchanged on 5.1, 5.3, 5.4 and LuaJIT) with typescript-to-lua.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

rmSync("dist/lua", { recursive: true, force: true });
execFileSync("npx", ["--no-install", "tstl", "-p", "tsconfig.lua.json"], { stdio: "inherit" });
console.log("build:lua: dist/lua/protocol");
