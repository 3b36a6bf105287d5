import type { LogRecord } from "../support/gateway-command";

/** Lines that betray an exception: error class names, stack frames, Node's fatal and uncaught reports. */
const EXCEPTION_LINE =
  /\b(TypeError|RangeError|ReferenceError|SyntaxError|EvalError|URIError|AssertionError|AggregateError)\b|^\s+at\s|uncaught|unhandled|FATAL ERROR|\[ERR_[A-Z_]+\]/i;

/** How many exception lines are kept of one process. */
const KEPT_LINES = 40;

/** What one gateway process wrote on stderr, scanned line by line as it arrives. */
export interface StderrScan {
  /**
   * Lines that are not a JSON log record (an uncaught exception, its stack, a Node warning, an error
   * while stopping) or that name an error class inside a record; the first 40 are kept.
   */
  exceptionLines: string[];
  exceptionCount: number;
  /** JSON log records by event name. */
  events: Map<string, number>;
}

export function newStderrScan(): StderrScan {
  return { exceptionLines: [], exceptionCount: 0, events: new Map() };
}

/** Takes one line of stderr into the scan (the onLine of startGatewayCommand). */
export function scanLine(scan: StderrScan, line: string, record: LogRecord | undefined): void {
  if (record !== undefined) scan.events.set(record.event, (scan.events.get(record.event) ?? 0) + 1);
  // The gateway writes only JSON log records on stderr: anything else is Node reporting an error.
  if (record === undefined || EXCEPTION_LINE.test(line)) {
    scan.exceptionCount++;
    if (scan.exceptionLines.length < KEPT_LINES) scan.exceptionLines.push(line);
  }
}
