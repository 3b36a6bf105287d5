import type { Log } from "../../../transports/link";

export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  event: string;
  fields: Record<string, unknown>;
}

/** A Log that keeps its records for assertions. */
export function captureLog(): Log & { records: LogRecord[]; events: () => string[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord["level"]) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      records.push({ level, event, fields });
    };
  return {
    records,
    events: () => records.map((r) => r.event),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
