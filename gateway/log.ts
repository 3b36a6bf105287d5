import pino, { type Logger } from "pino";
import type { Log } from "../transports/link";
import type { LogLevel } from "./config";

/** A Log whose level can change while it runs (a config reload) and that makes child logs. */
export interface GatewayLog extends Log {
  /** Records below this level are skipped from now on. */
  setLevel(level: LogLevel): void;
  /** A log whose records all carry `bindings` as well. */
  child(bindings: Record<string, unknown>): GatewayLog;
}

/**
 * Fields whose values are never written as they are: passwords, and URLs that may carry one. Exact paths:
 * pino's wildcard paths would double the cost of every record written.
 */
const REDACTED_PATHS = ["password", "upstream.password", "broker", "url"];

/** "mqtt://user:secret@host" → "mqtt://user:[redacted]@host"; other values unchanged. */
export function withoutPassword(value: unknown): unknown {
  if (typeof value !== "string" || !value.includes("@")) return value;
  try {
    const url = new URL(value);
    if (url.password === "") return value;
    url.password = "[redacted]";
    return url.toString().replace("%5Bredacted%5D", "[redacted]");
  } catch {
    return value;
  }
}

function censor(value: unknown, path: string[]): unknown {
  return path[path.length - 1] === "password" ? "[redacted]" : withoutPassword(value);
}

function wrap(logger: Logger): GatewayLog {
  return {
    debug: (event, fields) => logger.debug(fields ?? {}, event),
    info: (event, fields) => logger.info(fields ?? {}, event),
    warn: (event, fields) => logger.warn(fields ?? {}, event),
    error: (event, fields) => logger.error(fields ?? {}, event),
    setLevel: (level) => {
      logger.level = level;
    },
    child: (bindings) => wrap(logger.child(bindings)),
  };
}

/**
 * JSON lines on stderr (or `write`) through pino: {"level":"warn","time":"…ISO…","event":"…", …fields}.
 * Records below `level` are skipped before any formatting; passwords are redacted (REDACTED_PATHS).
 * Writes to stderr are synchronous, so nothing is lost when the process exits right after a record.
 */
export function createLog(level: LogLevel, write?: (line: string) => void): GatewayLog {
  const destination = write === undefined ? pino.destination({ dest: 2, sync: true }) : { write };
  const logger = pino(
    {
      level,
      base: null,
      messageKey: "event",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor },
    },
    destination,
  );
  return wrap(logger);
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The fields that say what a warning is about. Two records of one event with different values here are
 * throttled apart: two missing serial ports are both logged, so are two clients hitting one limit.
 */
const SUBJECT_FIELDS = ["clientId", "path", "link", "address", "source", "id", "limit", "op", "library", "broker"];

function subjectOf(event: string, fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return event;
  let key = event;
  for (const name of SUBJECT_FIELDS) {
    const value = fields[name];
    if (value !== undefined) key += `\u0000${name}=${String(value)}`;
  }
  return key;
}

export interface ThrottleLimits {
  /** Records of one event passed per interval across all its subjects; beyond it they are held back. */
  perEvent: number;
  /** Subjects remembered at once; the one passed longest ago is forgotten first. */
  subjects: number;
}

const DEFAULT_THROTTLE: ThrottleLimits = { perEvent: 20, subjects: 4096 };

/**
 * Warnings and errors of one event and subject (SUBJECT_FIELDS: the client id, the serial path, the link …)
 * at most once per interval; the next one that passes says how many were held back (`suppressed`). A
 * client hammering a limit cannot flood the log, and one noisy subject does not hide another. Records
 * of one event are also bounded across subjects (`perEvent` per interval), so a flood of distinct
 * sources stays a few lines; the next record of that event says how many others were held back
 * (`suppressedOthers`). Debug and info (state changes) pass unchanged. Both tables are bounded.
 */
export function throttled(
  log: Log,
  intervalMs = 1000,
  now: () => number = Date.now,
  limits: ThrottleLimits = DEFAULT_THROTTLE,
): Log {
  const subjects = new Map<string, { at: number; suppressed: number }>();
  const events = new Map<string, { windowStart: number; passed: number; suppressed: number }>();
  const gate =
    (write: (event: string, fields?: Record<string, unknown>) => void) =>
    (event: string, fields?: Record<string, unknown>): void => {
      const t = now();
      const key = subjectOf(event, fields);
      const seen = subjects.get(key);
      if (seen !== undefined && t - seen.at < intervalMs) {
        seen.suppressed++;
        return;
      }
      let perEvent = events.get(event);
      if (perEvent === undefined || t - perEvent.windowStart >= intervalMs) {
        perEvent = { windowStart: t, passed: 0, suppressed: perEvent?.suppressed ?? 0 };
        events.set(event, perEvent);
      }
      if (perEvent.passed >= limits.perEvent) {
        perEvent.suppressed++;
        return;
      }
      perEvent.passed++;
      const suppressed = seen === undefined ? 0 : seen.suppressed;
      const others = perEvent.suppressed;
      perEvent.suppressed = 0;
      subjects.delete(key);
      while (subjects.size >= limits.subjects) {
        const [oldest, entry] = subjects.entries().next().value as [string, { suppressed: number }];
        subjects.delete(oldest);
        const owner = events.get(oldest.split("\u0000")[0] as string);
        if (owner !== undefined) owner.suppressed += entry.suppressed;
      }
      subjects.set(key, { at: t, suppressed: 0 });
      if (suppressed === 0 && others === 0) write(event, fields);
      else
        write(event, {
          ...fields,
          ...(suppressed > 0 ? { suppressed } : {}),
          ...(others > 0 ? { suppressedOthers: others } : {}),
        });
    };
  return {
    debug: (e, f) => log.debug(e, f),
    info: (e, f) => log.info(e, f),
    warn: gate((e, f) => log.warn(e, f)),
    error: gate((e, f) => log.error(e, f)),
  };
}
