import type { Log } from "../transports/link";
import type { LogLevel } from "./config";

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** JSON lines on stderr (or `write`), records below `level` skipped before any formatting. */
export function createLog(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)): Log {
  const min = rank[level];
  const emit = (lvl: LogLevel, event: string, fields?: Record<string, unknown>): void => {
    if (rank[lvl] < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, event, ...fields }) + "\n");
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
  };
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Warnings and errors of one event name at most once per interval; the next one that passes says how
 * many were held back (`suppressed`). A client hammering a limit cannot flood the log. Debug and info
 * (state changes) pass unchanged. The table is bounded by the number of event names the code uses.
 */
export function throttled(log: Log, intervalMs = 1000, now: () => number = Date.now): Log {
  const last = new Map<string, { at: number; suppressed: number }>();
  const gate =
    (write: (event: string, fields?: Record<string, unknown>) => void) =>
    (event: string, fields?: Record<string, unknown>): void => {
      const t = now();
      const seen = last.get(event);
      if (seen !== undefined && t - seen.at < intervalMs) {
        seen.suppressed++;
        return;
      }
      const suppressed = seen === undefined ? 0 : seen.suppressed;
      last.set(event, { at: t, suppressed: 0 });
      write(event, suppressed > 0 ? { ...fields, suppressed } : fields);
    };
  return {
    debug: (e, f) => log.debug(e, f),
    info: (e, f) => log.info(e, f),
    warn: gate((e, f) => log.warn(e, f)),
    error: gate((e, f) => log.error(e, f)),
  };
}
