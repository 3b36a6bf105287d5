import type { Log } from "./link";

/** A Log that drops every record: the default when a link is built without one. */
export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
