import type { GatewayConfig } from "./config";
import { connectAdmissionFor } from "./shell/admission";
import type { Shell } from "./shell/context";
import { predefinedMaps } from "./session/topics";

/** Top-level config keys a reload (SIGHUP) applies to the running gateway. */
export const RELOADABLE_KEYS = ["limits", "predefinedTopics", "logLevel", "access"] as const;

export interface ReloadResult {
  /** Reloadable keys whose value changed, now in force. */
  applied: string[];
  /** Other keys whose value changed: the running value stays until the gateway is restarted. */
  restartNeeded: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Puts the limits and predefined topics of `next` (validated) in force without touching a session:
 * - every limit holds from the next message on (limits.maxMessageSize, maxInflight, maxClients,
 *   maxClientIdLength, the per-source CONNECT limits), for connected clients too;
 * - limits.maxTopicsPerClient and the predefined topics (§2.3) hold for sessions made after the reload: a
 *   session keeps the topic table it was given, also across a new CONNECT of the same client (a client
 *   gets the new ones at its first CONNECT after the gateway let its session go);
 * - the per-source CONNECT history (rate buckets, handshakes under way) starts afresh when a per-source
 *   limit or maxClients changed;
 * - `access` holds for CONNECTs after the reload: a connected session keeps the grant (login, topic filters)
 *   it was admitted with until its next CONNECT;
 * - link MTUs stay as they were set at start.
 * The log level is the caller's (it owns the log).
 */
export function reloadShell(shell: Shell, next: GatewayConfig): ReloadResult {
  const current = shell.config;
  const applied: string[] = [];
  const restartNeeded: string[] = [];
  const keys = new Set([...Object.keys(current), ...Object.keys(next)]) as Set<keyof GatewayConfig>;
  for (const key of keys) {
    if (same(current[key], next[key])) continue;
    if ((RELOADABLE_KEYS as readonly string[]).includes(key)) applied.push(key);
    else restartNeeded.push(key);
  }
  const limits = next.limits;
  const admissionChanged =
    limits.maxClients !== current.limits.maxClients ||
    limits.maxHandshakesPerSource !== current.limits.maxHandshakesPerSource ||
    limits.maxConnectsPerSecondPerSource !== current.limits.maxConnectsPerSecondPerSource ||
    limits.maxDatagramsPerSecondPerSource !== current.limits.maxDatagramsPerSecondPerSource;
  const config: GatewayConfig = {
    ...current,
    limits,
    predefinedTopics: next.predefinedTopics,
    logLevel: next.logLevel,
  };
  if (next.access !== undefined) config.access = next.access;
  else delete config.access;
  shell.config = config;
  shell.ctx.maxTopicsPerClient = limits.maxTopicsPerClient;
  shell.ctx.maxInflight = limits.maxInflight;
  shell.ctx.maxMessageSize = limits.maxMessageSize;
  shell.decodeOptions = { ...shell.decodeOptions, maxClientIdLength: limits.maxClientIdLength };
  shell.globalPredefined = predefinedMaps(next.predefinedTopics.global, undefined);
  if (admissionChanged) {
    const admission = connectAdmissionFor(limits);
    admission.forgotten = shell.admission.forgotten;
    shell.admission = admission;
  }
  return { applied, restartNeeded };
}
