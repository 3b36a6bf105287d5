/**
 * Sleep supervision and wake-up checks, §6.14 (mqtt-sn-reference §7).
 */

/**
 * When a sleeping client is lost: nothing heard within its sleep duration plus the grace. While asleep a
 * client is supervised by this alone, never by its keep-alive.
 */
export function sleepDeadline(lastHeard: number, durationS: number, graceMs: number): number {
  return lastHeard + durationS * 1000 + graceMs;
}
