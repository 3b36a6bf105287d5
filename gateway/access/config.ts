import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../config-error";
import { parseFrom } from "./from";

/** One entry of access.clients: who it admits and with which upstream identity and topics. */
export interface AccessEntry {
  /** An exact client id, or a pattern where '*' stands for any run of characters. */
  clientId: string;
  /** Where the client may connect from (see FromRule); absent: from anywhere. */
  from?: string[];
  /** The client's own upstream MQTT username; `%c` is the MQTT-SN client id. */
  username?: string;
  /** Its upstream password; `%c` is the client id. Replaced by the content of passwordFile when that is given. */
  password?: string;
  /** A file whose content (without a trailing line break) is the password; read when the config is loaded. */
  passwordFile?: string;
  /** Topic filters the client may publish to (REGISTER, PUBLISH of any kind); `%c` is the client id. Absent: any. */
  publish?: string[];
  /** Topic filters the client may subscribe within; `%c` is the client id. Absent: any. */
  subscribe?: string[];
  /** PEM files of this client's own TLS client certificate and key for a TLS broker (both or neither). */
  certFile?: string;
  keyFile?: string;
  /** A prefix of every topic at the broker for this client (`%c` is the client id); wins over a link's. */
  mountpoint?: string;
}

/** A mountpoint for every client on a link, or on the part of a link `from` names (first match). */
export interface LinkMountpoint {
  from: string;
  mountpoint: string;
}

/** Who may connect, as whom, to which topics. The first entry whose clientId and from match wins. */
export interface AccessConfig {
  /** What a client id that matches no entry gets: "allow" (today's behaviour) or "deny" (CONNACK 0x03). */
  default: "allow" | "deny";
  clients: AccessEntry[];
  /** Mountpoints by link, for clients whose entry names none (and for QoS -1 without a session). */
  mountpoints: LinkMountpoint[];
}

const SHAPE =
  '{"default": "allow" or "deny", "clients": [{"clientId": "ok-*", "from": ["udp:10.0.0.0/8"], "username": "%c", "password": "pw-%c", "publish": ["sensors/%c/#"], "subscribe": ["cmd/%c/#"]}]}';
const ENTRY_KEYS = [
  "clientId",
  "from",
  "username",
  "password",
  "passwordFile",
  "certFile",
  "keyFile",
  "publish",
  "subscribe",
  "mountpoint",
];
const FROM_SHAPE =
  '"udp:10.0.0.0/8", "udp:[fd00::]/8", "udp:10.0.0.7", "serial:/dev/ttyUSB0", "ble:aa:bb:cc:dd:ee:ff" or a link kind alone ("udp")';

/** A mountpoint: a topic prefix without wildcards, e.g. "site-a/" or "devices/%c/". */
function mountpoint(key: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.includes("+") || value.includes("#"))
    throw new ConfigError(key, value, 'a topic prefix without "+" or "#", "%c" for the client id, e.g. "site-a/"');
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A topic filter (MQTT 3.1.1 §4.7.1): '#' only as the last level, '+' and '#' alone in their level. */
function isFilter(text: string): boolean {
  if (text.length === 0) return false;
  const levels = text.split("/");
  return levels.every((level, i) => {
    if (level === "#") return i === levels.length - 1;
    return level === "+" || (!level.includes("+") && !level.includes("#"));
  });
}

function stringList(key: string, value: unknown, allowed: string, ok: (s: string) => boolean): string[] {
  if (!Array.isArray(value)) throw new ConfigError(key, value, allowed);
  return value.map((item, i) => {
    if (typeof item !== "string" || !ok(item)) throw new ConfigError(`${key}[${i}]`, item, allowed);
    return item;
  });
}

function readPassword(key: string, path: unknown): string {
  if (typeof path !== "string" || path.length === 0) throw new ConfigError(key, path, "the path of a readable file");
  try {
    return readFileSync(resolve(path), "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new ConfigError(key, path, `a readable file (${(err as Error).message})`);
  }
}

function entry(key: string, value: unknown): AccessEntry {
  if (!isObject(value)) throw new ConfigError(key, value, SHAPE);
  for (const k of Object.keys(value))
    if (!ENTRY_KEYS.includes(k))
      throw new ConfigError(`${key}.${k}`, value[k], `no such key; known keys: ${ENTRY_KEYS.join(", ")}`);
  const clientId = value.clientId;
  if (typeof clientId !== "string" || clientId.length === 0)
    throw new ConfigError(`${key}.clientId`, clientId, 'an exact client id or a pattern with "*", e.g. "ok-*"');
  const out: AccessEntry = { clientId };
  if (value.from !== undefined)
    out.from = stringList(`${key}.from`, value.from, FROM_SHAPE, (s) => parseFrom(s) !== undefined);
  if (value.mountpoint !== undefined) out.mountpoint = mountpoint(`${key}.mountpoint`, value.mountpoint);
  for (const k of ["username", "password"] as const) {
    const v = value[k];
    if (v === undefined) continue;
    if (typeof v !== "string") throw new ConfigError(`${key}.${k}`, v, 'a string, "%c" for the client id');
    out[k] = v;
  }
  if (value.passwordFile !== undefined) {
    // Read on every check (start, SIGHUP): the file's content is the password, whatever `password` says.
    out.passwordFile = value.passwordFile as string;
    out.password = readPassword(`${key}.passwordFile`, value.passwordFile);
  }
  if ((value.certFile === undefined) !== (value.keyFile === undefined))
    throw new ConfigError(
      `${key}.${value.certFile === undefined ? "certFile" : "keyFile"}`,
      undefined,
      "certFile and keyFile together (a client certificate and its key), or neither",
    );
  for (const k of ["certFile", "keyFile"] as const) {
    if (value[k] === undefined) continue;
    readPassword(`${key}.${k}`, value[k]);
    out[k] = resolve(value[k] as string);
  }
  for (const k of ["publish", "subscribe"] as const) {
    if (value[k] === undefined) continue;
    out[k] = stringList(
      `${key}.${k}`,
      value[k],
      'a list of topic filters, "%c" for the client id, e.g. ["sensors/%c/#"]',
      isFilter,
    );
  }
  return out;
}

/** Checks the `access` key; throws ConfigError naming the key, the value and what is allowed. */
export function validateAccess(key: string, value: unknown): AccessConfig {
  if (!isObject(value)) throw new ConfigError(key, value, SHAPE);
  for (const k of Object.keys(value))
    if (k !== "default" && k !== "clients" && k !== "mountpoints")
      throw new ConfigError(`${key}.${k}`, value[k], "no such key; known keys: default, clients, mountpoints");
  const def = value.default ?? "allow";
  if (def !== "allow" && def !== "deny") throw new ConfigError(`${key}.default`, def, '"allow" or "deny"');
  const clients = value.clients ?? [];
  if (!Array.isArray(clients)) throw new ConfigError(`${key}.clients`, clients, `a list of entries such as ${SHAPE}`);
  const mountpoints = value.mountpoints ?? [];
  const linkShape = 'a list of {"from": "serial:/dev/ttyUSB0", "mountpoint": "radio-a/"}';
  if (!Array.isArray(mountpoints)) throw new ConfigError(`${key}.mountpoints`, mountpoints, linkShape);
  return {
    default: def,
    clients: clients.map((c, i) => entry(`${key}.clients[${i}]`, c)),
    mountpoints: mountpoints.map((m, i) => {
      const at = `${key}.mountpoints[${i}]`;
      if (!isObject(m) || Object.keys(m).some((k) => k !== "from" && k !== "mountpoint"))
        throw new ConfigError(at, m, linkShape);
      if (typeof m.from !== "string" || parseFrom(m.from) === undefined)
        throw new ConfigError(`${at}.from`, m.from, FROM_SHAPE);
      return { from: m.from, mountpoint: mountpoint(`${at}.mountpoint`, m.mountpoint) };
    }),
  };
}
