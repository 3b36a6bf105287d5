import { ConfigError } from "../config-error";
import { clientIdMatches } from "../access/patterns";

export type UpstreamMode = "transparent" | "aggregating";

/**
 * Which upstream mode a client gets: transparent (its own MQTT connection, its own identity at the broker)
 * or aggregating (a shared connection). The first entry of `clients` whose clientId pattern matches wins.
 */
export interface ModeConfig {
  default: UpstreamMode;
  clients: Array<{ clientId: string; mode: UpstreamMode }>;
}

/** The shared connections of aggregating mode. */
export interface AggregatingConfig {
  /** Shared connections to the broker, 1 to 8; each device always uses the same one. */
  connections: number;
  /** Their client ids are `${clientIdPrefix}-0` …; "" = mqttsn-gateway-<gatewayId>-shared. Unique per broker. */
  clientIdPrefix: string;
  /** Persistent devices kept while they have no connection; beyond, the one away longest is forgotten (logged). */
  maxKeptSessions: number;
  /** QoS 1/2 messages kept for one persistent device while it has no connection; beyond, dropped and counted. */
  maxParkedPerClient: number;
  /** The same over all devices. */
  maxParkedMessages: number;
  /**
   * A QoS 1/2 broker message is acknowledged on the shared connection once every persistent device it
   * goes to has it in custody (delivered, or in the session store), or after this long at the latest:
   * from then on the gateway holds that device's copy in memory, so a slow device never stalls the others.
   */
  custodyWaitMs: number;
}

export function defaultModeConfig(): ModeConfig {
  return { default: "transparent", clients: [] };
}

export function defaultAggregatingConfig(): AggregatingConfig {
  return {
    connections: 1,
    clientIdPrefix: "",
    maxKeptSessions: 10_000,
    maxParkedPerClient: 1000,
    maxParkedMessages: 100_000,
    custodyWaitMs: 2000,
  };
}

const MODES: readonly UpstreamMode[] = ["transparent", "aggregating"];

function isMode(value: unknown): value is UpstreamMode {
  return typeof value === "string" && (MODES as readonly string[]).includes(value);
}

const SHAPE =
  '"transparent", "aggregating", or {"default": "transparent", "clients": [{"clientId": "bulk-*", "mode": "aggregating"}]}';

/** `mode`: a mode for every client, or a default with overrides per client-id pattern. */
export function validateMode(key: string, value: unknown): ModeConfig {
  if (isMode(value)) return { default: value, clients: [] };
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError(key, value, SHAPE);
  const out = defaultModeConfig();
  for (const [k, v] of Object.entries(value)) {
    if (k === "default") {
      if (!isMode(v)) throw new ConfigError(`${key}.default`, v, '"transparent" or "aggregating"');
      out.default = v;
    } else if (k === "clients") {
      if (!Array.isArray(v))
        throw new ConfigError(`${key}.clients`, v, 'a list of {"clientId": pattern, "mode": mode}');
      out.clients = v.map((entry: unknown, i) => {
        const at = `${key}.clients[${i}]`;
        if (typeof entry !== "object" || entry === null || Array.isArray(entry))
          throw new ConfigError(
            at,
            entry,
            '{"clientId": "exact id or pattern with *", "mode": "transparent" or "aggregating"}',
          );
        const e = entry as Record<string, unknown>;
        for (const field of Object.keys(e))
          if (field !== "clientId" && field !== "mode")
            throw new ConfigError(`${at}.${field}`, e[field], "no such key; known keys: clientId, mode");
        if (typeof e.clientId !== "string" || e.clientId === "")
          throw new ConfigError(
            `${at}.clientId`,
            e.clientId,
            "a client id, or a pattern where * stands for any characters",
          );
        if (!isMode(e.mode)) throw new ConfigError(`${at}.mode`, e.mode, '"transparent" or "aggregating"');
        return { clientId: e.clientId, mode: e.mode };
      });
    } else throw new ConfigError(`${key}.${k}`, v, "no such key; known keys: default, clients");
  }
  return out;
}

export function modeFor(config: ModeConfig, clientId: string): UpstreamMode {
  for (const entry of config.clients) if (clientIdMatches(entry.clientId, clientId)) return entry.mode;
  return config.default;
}

/** Whether any client can get aggregating mode (then the shared connections are made). */
export function usesAggregating(config: ModeConfig): boolean {
  return config.default === "aggregating" || config.clients.some((e) => e.mode === "aggregating");
}
