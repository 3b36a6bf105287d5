import { ConfigError } from "../config-error";
import { DEFAULT_STORE_LIMITS, DEFAULT_STORE_PATH } from "../store/session-store";
import type { SleepBufferLimits, SleepLimitsConfig } from "./buffer";

/** The "sleep" section of the gateway config: sleeping clients, §7. */
export interface SleepConfig extends SleepLimitsConfig {
  /** A sleeping client is lost when nothing is heard within its sleep duration plus this grace. */
  graceMs: number;
  /**
   * Client ids whose sleeping session may be woken (PINGREQ) from another address than the one it went
   * to sleep from (NAT or NB-IoT rebinding). For everyone else such a PINGREQ is ignored and counted.
   */
  allowAddressChange: string[];
  store: {
    /** Directory of the LevelDB store; "" = keep sessions in memory only (nothing survives a restart). */
    path: string;
    maxMessages: number;
    maxBytes: number;
    maxSessions: number;
  };
}

export function defaultSleepConfig(): SleepConfig {
  return {
    maxMessages: 100,
    maxBytes: 64 * 1024,
    clients: {},
    graceMs: 10_000,
    allowAddressChange: [],
    store: { path: DEFAULT_STORE_PATH, ...DEFAULT_STORE_LIMITS },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function int(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function known(key: string, value: Record<string, unknown>, keys: string[]): void {
  for (const k of Object.keys(value)) {
    if (!keys.includes(k))
      throw new ConfigError(`${key}.${k}`, value[k], `no such key; known keys: ${keys.join(", ")}`);
  }
}

const LIMIT_MAX = { maxMessages: 1_000_000, maxBytes: 1024 * 1024 * 1024 };

function clientLimits(key: string, value: unknown): Record<string, Partial<SleepBufferLimits>> {
  if (!isObject(value)) throw new ConfigError(key, value, 'an object of client id → {"maxMessages": n, "maxBytes": n}');
  const out: Record<string, Partial<SleepBufferLimits>> = {};
  for (const [clientId, limits] of Object.entries(value)) {
    const k = `${key}.${clientId}`;
    if (!isObject(limits))
      throw new ConfigError(k, limits, 'an object {"maxMessages": n, "maxBytes": n} (either may be left out)');
    known(k, limits, ["maxMessages", "maxBytes"]);
    const own: Partial<SleepBufferLimits> = {};
    if (limits.maxMessages !== undefined)
      own.maxMessages = int(`${k}.maxMessages`, limits.maxMessages, 1, LIMIT_MAX.maxMessages);
    if (limits.maxBytes !== undefined) own.maxBytes = int(`${k}.maxBytes`, limits.maxBytes, 1, LIMIT_MAX.maxBytes);
    out[clientId] = own;
  }
  return out;
}

function clientIdList(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v.length > 0)) {
    throw new ConfigError(key, value, 'a list of client ids, e.g. ["nbiot-meter-1"]');
  }
  return [...new Set(value as string[])];
}

/**
 * Checks the "sleep" section of a config file and merges it over `base`. Throws ConfigError naming the
 * first bad or unknown key.
 */
export function validateSleepConfig(
  key: string,
  value: unknown,
  base: SleepConfig = defaultSleepConfig(),
): SleepConfig {
  if (!isObject(value))
    throw new ConfigError(
      key,
      value,
      "an object with keys maxMessages, maxBytes, clients, graceMs, allowAddressChange, store",
    );
  known(key, value, ["maxMessages", "maxBytes", "clients", "graceMs", "allowAddressChange", "store"]);
  const out: SleepConfig = structuredClone(base);
  if (value.maxMessages !== undefined)
    out.maxMessages = int(`${key}.maxMessages`, value.maxMessages, 1, LIMIT_MAX.maxMessages);
  if (value.maxBytes !== undefined) out.maxBytes = int(`${key}.maxBytes`, value.maxBytes, 1, LIMIT_MAX.maxBytes);
  if (value.clients !== undefined) out.clients = clientLimits(`${key}.clients`, value.clients);
  if (value.graceMs !== undefined) out.graceMs = int(`${key}.graceMs`, value.graceMs, 0, 3_600_000);
  if (value.allowAddressChange !== undefined)
    out.allowAddressChange = clientIdList(`${key}.allowAddressChange`, value.allowAddressChange);
  if (value.store !== undefined) {
    const store = value.store;
    const k = `${key}.store`;
    if (!isObject(store))
      throw new ConfigError(k, store, "an object with keys path, maxMessages, maxBytes, maxSessions");
    known(k, store, ["path", "maxMessages", "maxBytes", "maxSessions"]);
    if (store.path !== undefined) {
      if (typeof store.path !== "string")
        throw new ConfigError(`${k}.path`, store.path, 'a directory path, or "" to keep sessions in memory only');
      out.store.path = store.path;
    }
    if (store.maxMessages !== undefined)
      out.store.maxMessages = int(`${k}.maxMessages`, store.maxMessages, 1, 100_000_000);
    if (store.maxBytes !== undefined)
      out.store.maxBytes = int(`${k}.maxBytes`, store.maxBytes, 1, Number.MAX_SAFE_INTEGER);
    if (store.maxSessions !== undefined)
      out.store.maxSessions = int(`${k}.maxSessions`, store.maxSessions, 1, 10_000_000);
  }
  return out;
}
