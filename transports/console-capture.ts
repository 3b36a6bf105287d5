import { format } from "node:util";
import type { Log } from "./link";

type ConsoleMethod = "log" | "info" | "warn" | "error" | "debug" | "trace";

const METHODS: readonly ConsoleMethod[] = ["log", "info", "warn", "error", "debug", "trace"];

/** What a console call becomes: error output stays an error, debug stays debug, the rest is a warning. */
const LEVEL: Record<ConsoleMethod, keyof Log> = {
  log: "warn",
  info: "warn",
  warn: "warn",
  error: "error",
  debug: "debug",
  trace: "debug",
};

/**
 * The package that made a console call: the node_modules package of the first stack frame below the
 * console method itself; undefined when the caller is not in node_modules.
 */
export function callingPackage(stack: string | undefined): string | undefined {
  const frames = (stack ?? "").split("\n").filter((line) => line.trimStart().startsWith("at "));
  const caller = frames[1];
  if (caller === undefined) return undefined;
  const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(caller);
  return m === null ? undefined : (m[1] as string).replace("\\", "/");
}

/**
 * Routes console output (what libraries such as @stoprocent/noble print: several console.log lines for one
 * warning) into `log` instead of raw lines among the JSON records. The lines of one synchronous burst from
 * one package at one level become one record, event "library-output", with the package and the text.
 * Returns the function that puts the console back; captures nest (undo them in reverse order).
 */
export function captureConsole(log: Log): () => void {
  const saved = METHODS.map((m) => [m, console[m]] as const);
  let pending: { level: keyof Log; library: string | undefined; lines: string[] } | undefined;
  const flush = (): void => {
    const p = pending;
    pending = undefined;
    if (p === undefined) return;
    log[p.level]("library-output", { library: p.library ?? "unknown", text: p.lines.join("\n") });
  };
  for (const method of METHODS) {
    console[method] = (...args: unknown[]): void => {
      const level = LEVEL[method];
      const library = callingPackage(new Error().stack);
      const text = format(...args);
      if (pending !== undefined && (pending.level !== level || pending.library !== library)) flush();
      if (pending === undefined) {
        pending = { level, library, lines: [] };
        queueMicrotask(flush);
      }
      pending.lines.push(text);
    };
  }
  return () => {
    flush();
    for (const [method, original] of saved) console[method] = original;
  };
}
