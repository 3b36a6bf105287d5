import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isTopicName, SPEC_MAX_CLIENT_ID_LENGTH } from "../protocol";
import { parseHostPort } from "../transports/udp";
import type { BleSpec, SerialPortSpec } from "../transports/stream-links";
import { validateAccess, type AccessConfig } from "./access/config";
import { resolveAccessPaths } from "./access/paths";
import { ConfigError } from "./config-error";
import {
  defaultAggregatingConfig,
  defaultModeConfig,
  validateMode,
  type AggregatingConfig,
  type ModeConfig,
} from "./upstream/mode";
import { defaultDtlsConfig, validateDtlsConfig, type DtlsConfig } from "./dtls/config";
import { defaultSleepConfig, validateSleepConfig, type SleepConfig } from "./sleep/config";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export interface UdpSpec {
  host: string;
  port: number;
}

export interface GatewayConfig {
  /** GwId in ADVERTISE and GWINFO, §5.3.2. */
  gatewayId: number;
  /** UDP listeners ("0.0.0.0:1884", "[::]:1884"). */
  udp: UdpSpec[];
  /** Serial ports, each with its own baud rate and framing (hardware/serial-framing.md). */
  serial: SerialPortSpec[];
  /** BLE peripherals offering the Nordic UART Service; an empty list leaves BLE off. */
  ble: BleSpec;
  /**
   * Where ADVERTISE goes on UDP links: "HOST:PORT" (a broadcast address, a multicast group), "" for no
   * ADVERTISE over UDP, or "auto": IPv4 listeners not on loopback broadcast to 255.255.255.255 on their own port.
   */
  advertiseTarget: string;
  /** "embedded" or an mqtt:// / mqtts:// URL. */
  broker: string;
  /** Port of the embedded broker on 127.0.0.1 (0 = any free port). */
  embeddedPort: number;
  logLevel: LogLevel;
  /** The HTTP listener for /metrics, /healthz and the status page: "HOST:PORT", or "" (default) for none. */
  http: string;
  limits: {
    /** Connected sessions at once; beyond it CONNACK "congestion". */
    maxClients: number;
    /** Topic ids per client (registered both ways); beyond it REGACK "congestion". */
    maxTopicsPerClient: number;
    /** Largest MQTT-SN message accepted or delivered, in octets; larger publishes from upstream are dropped and counted. */
    maxMessageSize: number;
    /** Client QoS 1/2 publishes awaiting the broker; beyond it PUBACK "congestion". Also the bound on messages queued toward one client. */
    maxInflight: number;
    /** Longest client id, in octets (the spec says 23). */
    maxClientIdLength: number;
    /** Sessions of one source (link + host) in the will handshake or awaiting the broker's CONNACK at once; beyond it CONNACK "congestion". */
    maxHandshakesPerSource: number;
    /** CONNECTs accepted per second per source (link + host), a token bucket of this size; beyond it CONNACK "congestion". */
    maxConnectsPerSecondPerSource: number;
    /** Datagrams handled per second per source (link + host), a token bucket of this size; beyond it dropped unread; 0 = no limit. */
    maxDatagramsPerSecondPerSource: number;
  };
  timers: {
    /** T_RETRY, §6.13: wait before resending REGISTER, PUBLISH QoS 1/2, PUBREL to a client. */
    tRetryMs: number;
    /** N_RETRY: resends before the client is taken as lost. */
    nRetry: number;
    /** A client is lost after keep-alive × 1.5 plus this grace without a message. */
    keepAliveGraceMs: number;
    /** T_ADV: seconds between ADVERTISEs, 0 = never. */
    advertiseIntervalS: number;
    /** How long the broker may take to answer an upstream CONNECT before CONNACK "congestion". */
    upstreamConnectTimeoutMs: number;
    /** How long a client may take to answer WILLTOPICREQ / WILLMSGREQ. */
    willHandshakeTimeoutMs: number;
  };
  /** Predefined topic ids, §2.3: for every client, and per client id (these win). */
  predefinedTopics: {
    global: Record<string, number>;
    clients: Record<string, Record<string, number>>;
  };
  /** Sleeping clients, §6.14: buffer limits, grace, who may wake from a new address, the durable store. */
  sleep: SleepConfig;
  upstream: {
    username?: string;
    password?: string;
    /**
     * PEM files, read only when the broker URL uses TLS (mqtts://, tls://, wss://); in a config file,
     * relative to the file's folder.
     */
    caFile?: string;
    certFile?: string;
    keyFile?: string;
    rejectUnauthorized: boolean;
  };
  /** DTLS 1.2 listeners beside the UDP ones, with the gateway's certificate (gateway/dtls/config.ts, docs/dtls.md). */
  dtls: DtlsConfig;
  /** Who may connect, as whom, to which topics (gateway/access/config.ts); absent: anyone, as the gateway. */
  access?: AccessConfig;
  /** Upstream mode per client: transparent (own MQTT connection) or aggregating (shared connections). */
  mode: ModeConfig;
  aggregating: AggregatingConfig;
}

export function defaultConfig(): GatewayConfig {
  return {
    gatewayId: 1,
    udp: [{ host: "0.0.0.0", port: 1884 }],
    serial: [],
    ble: { peripherals: [], framing: "slip" },
    advertiseTarget: "auto",
    broker: "embedded",
    embeddedPort: 1883,
    logLevel: "warn",
    http: "",
    limits: {
      maxClients: 1000,
      maxTopicsPerClient: 256,
      maxMessageSize: 1232,
      maxInflight: 20,
      maxClientIdLength: SPEC_MAX_CLIENT_ID_LENGTH,
      maxHandshakesPerSource: 8,
      maxConnectsPerSecondPerSource: 20,
      maxDatagramsPerSecondPerSource: 0,
    },
    timers: {
      tRetryMs: 10_000,
      nRetry: 3,
      keepAliveGraceMs: 0,
      advertiseIntervalS: 900,
      upstreamConnectTimeoutMs: 10_000,
      willHandshakeTimeoutMs: 10_000,
    },
    predefinedTopics: { global: {}, clients: {} },
    sleep: defaultSleepConfig(),
    upstream: { rejectUnauthorized: true },
    dtls: defaultDtlsConfig(),
    mode: defaultModeConfig(),
    aggregating: defaultAggregatingConfig(),
  };
}

export { ConfigError };

type Check = (key: string, value: unknown) => unknown;

function int(min: number, max: number): Check {
  return (key, value) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(key, value, `an integer from ${min} to ${max}`);
    }
    return value;
  };
}

const str: Check = (key, value) => {
  if (typeof value !== "string") throw new ConfigError(key, value, "a string");
  return value;
};

const bool: Check = (key, value) => {
  if (typeof value !== "boolean") throw new ConfigError(key, value, "true or false");
  return value;
};

const logLevel: Check = (key, value) => {
  const levels = ["debug", "info", "warn", "error", "silent"];
  if (typeof value !== "string" || !levels.includes(value)) throw new ConfigError(key, value, levels.join(", "));
  return value;
};

const broker: Check = (key, value) => {
  if (value === "embedded") return value;
  if (typeof value === "string" && /^(mqtt|mqtts|tcp|tls|ws|wss):\/\/[^/]+/.test(value)) return value;
  throw new ConfigError(key, value, '"embedded" or a URL such as mqtt://host:1883 or mqtts://host:8883');
};

const udpList: Check = (key, value) => {
  if (!Array.isArray(value) || value.length === 0)
    throw new ConfigError(key, value, 'a non-empty list of "HOST:PORT" strings, e.g. ["0.0.0.0:1884", "[::]:1884"]');
  return value.map((entry, i) => {
    const parsed =
      typeof entry === "string"
        ? parseHostPort(entry)
        : isPlainObject(entry) &&
            typeof entry.host === "string" &&
            typeof entry.port === "number" &&
            Number.isInteger(entry.port) &&
            entry.port >= 0 &&
            entry.port <= 65535
          ? { host: entry.host, port: entry.port }
          : undefined;
    if (parsed === undefined)
      throw new ConfigError(`${key}[${i}]`, entry, '"HOST:PORT", e.g. "0.0.0.0:1884" or "[::]:1884"');
    return parsed;
  });
};

const FRAMINGS = ["raw", "slip"];

const framing: Check = (key, value) => {
  if (typeof value !== "string" || !FRAMINGS.includes(value)) throw new ConfigError(key, value, '"raw" or "slip"');
  return value;
};

const serialList: Check = (key, value) => {
  const shape = 'a list of {"path": "/dev/ttyUSB0", "baudRate": 115200, "framing": "slip" or "raw", "mtu": optional}';
  if (!Array.isArray(value)) throw new ConfigError(key, value, shape);
  const paths = new Set<string>();
  return value.map((entry, i) => {
    const at = `${key}[${i}]`;
    if (!isPlainObject(entry)) throw new ConfigError(at, entry, shape);
    for (const k of Object.keys(entry)) {
      if (!["path", "baudRate", "framing", "mtu"].includes(k))
        throw new ConfigError(`${at}.${k}`, entry[k], "no such key; known keys: path, baudRate, framing, mtu");
    }
    if (typeof entry.path !== "string" || entry.path.length === 0)
      throw new ConfigError(`${at}.path`, entry.path, "a device path such as /dev/ttyUSB0");
    if (paths.has(entry.path)) throw new ConfigError(`${at}.path`, entry.path, "a path not listed twice");
    paths.add(entry.path);
    const spec: SerialPortSpec = {
      path: entry.path,
      baudRate:
        entry.baudRate === undefined ? 115200 : (int(50, 4_000_000)(`${at}.baudRate`, entry.baudRate) as number),
      framing:
        entry.framing === undefined ? "slip" : (framing(`${at}.framing`, entry.framing) as SerialPortSpec["framing"]),
    };
    if (entry.mtu !== undefined) spec.mtu = int(16, 65535)(`${at}.mtu`, entry.mtu) as number;
    return spec;
  });
};

const blePeripherals: Check = (key, value) => {
  const shape = 'a list of {"name": "Puck.js 1a2b"} or {"address": "aa:bb:cc:dd:ee:ff"} (or both)';
  if (!Array.isArray(value)) throw new ConfigError(key, value, shape);
  return value.map((entry, i) => {
    const at = `${key}[${i}]`;
    if (!isPlainObject(entry) || (entry.name === undefined && entry.address === undefined))
      throw new ConfigError(at, entry, shape);
    const out: { name?: string; address?: string } = {};
    for (const [k, v] of Object.entries(entry)) {
      if (k !== "name" && k !== "address")
        throw new ConfigError(`${at}.${k}`, v, "no such key; known keys: name, address");
      if (typeof v !== "string" || v.length === 0) throw new ConfigError(`${at}.${k}`, v, "a non-empty string");
      if (k === "address" && !/^([0-9a-fA-F]{2}[:-]?){5}[0-9a-fA-F]{2}$|^[0-9a-fA-F-]{32,36}$/.test(v)) {
        throw new ConfigError(`${at}.${k}`, v, 'a Bluetooth address "aa:bb:cc:dd:ee:ff" or a noble peripheral id');
      }
      out[k] = v;
    }
    return out;
  });
};

const http: Check = (key, value) => {
  if (value === "") return value;
  if (typeof value === "string" && parseHostPort(value) !== undefined) return value;
  throw new ConfigError(key, value, '"" (no HTTP listener) or "HOST:PORT", e.g. "127.0.0.1:9184"');
};

const advertiseTarget: Check = (key, value) => {
  if (value === "" || value === "auto") return value;
  if (typeof value === "string" && parseHostPort(value) !== undefined) return value;
  throw new ConfigError(
    key,
    value,
    '"auto", "" (no ADVERTISE over UDP) or "HOST:PORT" of a broadcast or multicast address, e.g. "255.255.255.255:1884"',
  );
};

function topicTable(key: string, value: unknown): Record<string, number> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(key, value, 'an object of topic name → predefined topic id, e.g. {"sensors/temp": 1}');
  }
  const ids = new Set<number>();
  const out: Record<string, number> = {};
  for (const [name, id] of Object.entries(value)) {
    // MQTT 3.1.1 §4.7.1: a PUBLISH to a predefined id publishes to this name, and '+' and '#' are for filters only.
    if (name.length === 0 || !isTopicName(name)) {
      throw new ConfigError(
        `${key}.${name}`,
        name,
        'a non-empty topic name without wildcards ("+" and "#" belong to subscriptions), e.g. "sensors/temp"',
      );
    }
    int(1, 0xfffe)(`${key}.${name}`, id);
    if (ids.has(id as number))
      throw new ConfigError(`${key}.${name}`, id, "an id not used by another topic of the same table");
    ids.add(id as number);
    out[name] = id as number;
  }
  return out;
}

const predefined: Check = (key, value) => {
  const shape = { global: {}, clients: {} } as GatewayConfig["predefinedTopics"];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(key, value, 'an object {"global": {name: id}, "clients": {clientId: {name: id}}}');
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === "global") shape.global = topicTable(`${key}.global`, v);
    else if (k === "clients") {
      if (typeof v !== "object" || v === null || Array.isArray(v))
        throw new ConfigError(`${key}.clients`, v, "an object of client id → {name: id}");
      for (const [clientId, table] of Object.entries(v))
        shape.clients[clientId] = topicTable(`${key}.clients.${clientId}`, table);
    } else throw new ConfigError(`${key}.${k}`, v, `no such key; known keys: global, clients`);
  }
  return shape;
};

/** Every key a config file may hold, with its check. Nested objects are listed by their dotted path. */
const schema: Record<string, Check | Record<string, Check>> = {
  gatewayId: int(0, 255),
  udp: udpList,
  serial: serialList,
  ble: {
    peripherals: blePeripherals,
    framing,
  },
  advertiseTarget,
  broker,
  embeddedPort: int(0, 65535),
  logLevel,
  http,
  limits: {
    maxClients: int(1, 1_000_000),
    maxTopicsPerClient: int(1, 65534),
    maxMessageSize: int(16, 65535),
    maxInflight: int(1, 65535),
    maxClientIdLength: int(1, 65535),
    maxHandshakesPerSource: int(1, 1_000_000),
    maxConnectsPerSecondPerSource: int(1, 1_000_000),
    maxDatagramsPerSecondPerSource: int(0, 1_000_000),
  },
  timers: {
    tRetryMs: int(10, 3_600_000),
    nRetry: int(0, 100),
    keepAliveGraceMs: int(0, 3_600_000),
    advertiseIntervalS: int(0, 65535),
    upstreamConnectTimeoutMs: int(100, 600_000),
    willHandshakeTimeoutMs: int(100, 600_000),
  },
  predefinedTopics: predefined,
  access: (key, value) => validateAccess(key, value),
  sleep: (key, value) => validateSleepConfig(key, value),
  dtls: (key, value) => validateDtlsConfig(key, value),
  mode: (key, value) => validateMode(key, value),
  aggregating: {
    connections: int(1, 8),
    clientIdPrefix: str,
    maxKeptSessions: int(0, 1_000_000),
    maxParkedPerClient: int(0, 1_000_000),
    maxParkedMessages: int(0, 10_000_000),
    custodyWaitMs: int(10, 600_000),
  },
  upstream: {
    username: str,
    password: str,
    caFile: str,
    certFile: str,
    keyFile: str,
    rejectUnauthorized: bool,
  },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks a parsed config object against the schema and merges it over `base`. Throws ConfigError naming
 * the first bad or unknown key, its value and what is allowed.
 */
export function validateConfig(input: unknown, base: GatewayConfig = defaultConfig()): GatewayConfig {
  if (!isPlainObject(input)) throw new ConfigError("(top level)", input, "a JSON object");
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    const rule = schema[key];
    if (rule === undefined)
      throw new ConfigError(key, value, `no such key; known keys: ${Object.keys(schema).join(", ")}`);
    if (typeof rule === "function") {
      out[key] = rule(key, value);
      continue;
    }
    if (!isPlainObject(value)) throw new ConfigError(key, value, `an object with keys ${Object.keys(rule).join(", ")}`);
    const section = out[key] as Record<string, unknown>;
    for (const [sub, subValue] of Object.entries(value)) {
      const check = rule[sub];
      if (check === undefined)
        throw new ConfigError(`${key}.${sub}`, subValue, `no such key; known keys: ${Object.keys(rule).join(", ")}`);
      section[sub] = check(`${key}.${sub}`, subValue);
    }
  }
  return out as unknown as GatewayConfig;
}

/** Keys of a config file that name files or folders: relative values are taken from the file's own folder. */
export const PATH_KEYS = [
  "upstream.caFile",
  "upstream.certFile",
  "upstream.keyFile",
  "sleep.store.path",
  "dtls.certFile",
  "dtls.keyFile",
  "dtls.caFile",
] as const;

function at(root: unknown, dotted: string): Record<string, unknown> | undefined {
  let node = root;
  for (const part of dotted.split(".")) {
    if (!isPlainObject(node)) return undefined;
    node = node[part];
  }
  return isPlainObject(node) ? node : undefined;
}

/**
 * Makes the relative paths that `input` (a config file's content) gives under PATH_KEYS absolute against
 * `folder` in `config`. Paths that come from defaults or flags, and "" (no store), stay as they are.
 */
export function resolveConfigPaths(input: unknown, config: GatewayConfig, folder: string): GatewayConfig {
  for (const key of PATH_KEYS) {
    const parent = key.slice(0, key.lastIndexOf("."));
    const leaf = key.slice(key.lastIndexOf(".") + 1);
    const given = at(input, parent)?.[leaf];
    const target = at(config, parent);
    if (typeof given === "string" && given !== "" && target !== undefined) target[leaf] = resolve(folder, given);
  }
  return config;
}

/**
 * Reads and checks a config file. Relative paths in it (PATH_KEYS, and the files of access entries) are
 * relative to the file's folder, so the file works from any working directory.
 */
export function loadConfigFile(path: string, base?: GatewayConfig): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`config file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const folder = dirname(resolve(path));
  return resolveConfigPaths(parsed, validateConfig(resolveAccessPaths(parsed, folder), base), folder);
}
