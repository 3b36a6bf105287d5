declare function getTime(): number;

/** Espruino's clock (getTime(), seconds) in whole milliseconds, the core's time unit. */
export function now(): number {
  return Math.floor(getTime() * 1000);
}
