/** Reopen delays: initialMs, doubled after each failed attempt, never above maxMs. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_REOPEN_BACKOFF: Backoff = { initialMs: 200, maxMs: 5000 };

export function nextDelay(backoff: Backoff, previousMs: number | undefined): number {
  if (previousMs === undefined) return backoff.initialMs;
  return Math.min(previousMs * 2, backoff.maxMs);
}

/** Log the 1st, 2nd, 4th, 8th … failed attempt, so that a port gone for hours does not flood the log. */
export function worthLogging(attempt: number): boolean {
  return (attempt & (attempt - 1)) === 0;
}
