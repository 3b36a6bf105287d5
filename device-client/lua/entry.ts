/** The Lua bundle's module: the core, plus the portable example app. */
export * from "../core/index";
