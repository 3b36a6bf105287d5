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

export interface Endpoint {
  /** Link.name */
  link: string;
  /** Address on that link (with the forwarder's wireless node id, where there is one). */
  address: string;
}

/**
 * Who may wake a sleeping session with PINGREQ(ClientId):
 * - "same-address": the address the client went to sleep from;
 * - "moved": another address, and the client id is listed in sleep.allowAddressChange (NAT or NB-IoT rebinding);
 * - "spoofed": another address, not allowed: the PINGREQ is ignored and counted.
 */
export function wakeSource(
  sleeping: Endpoint,
  from: Endpoint,
  clientId: string,
  allowAddressChange: ReadonlySet<string>,
): "same-address" | "moved" | "spoofed" {
  if (sleeping.link === from.link && sleeping.address === from.address) return "same-address";
  return allowAddressChange.has(clientId) ? "moved" : "spoofed";
}
