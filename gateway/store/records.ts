import type { NewStoredMessage, StoredDevice, StoredSession, StoredState, StoredWill } from "./session-store";

/**
 * Keys and values of the store's records.
 *
 * Keys: "s!" + hex(clientId) for a session, "m!" + hex(clientId) + "!" + 12 hex digits of seq for a
 * message; for aggregating mode "d!" + hex(clientId) for a device and "p!" … for a parked message. Hex keeps any client id (it is arbitrary UTF-8) from colliding with the separators, and the
 * fixed-width seq makes the key order the arrival order.
 *
 * Message value: version 1, qos, retain (0/1), topic length (2 octets, big-endian), topic (UTF-8), payload.
 * Session and device value: version 1 then the JSON of the record, the will payload in base64.
 */

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const VERSION = 1;
const SEQ_DIGITS = 12;

function hex(text: string): string {
  return Buffer.from(text, "utf8").toString("hex");
}

export const SESSION_PREFIX = "s!";
export const MESSAGE_PREFIX = "m!";
export const DEVICE_PREFIX = "d!";
export const PARKED_PREFIX = "p!";

/** Every key starting with `prefix` lies in [gte, lt). */
export function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: prefix.slice(0, -1) + '"' };
}

export function sessionKey(clientId: string): string {
  return SESSION_PREFIX + hex(clientId);
}

export function deviceKey(clientId: string): string {
  return DEVICE_PREFIX + hex(clientId);
}

/** All message keys (or, with PARKED_PREFIX, parked message keys) of one client lie in [lower, upper). */
export function messageRange(clientId: string, prefix = MESSAGE_PREFIX): { gte: string; lt: string } {
  const base = prefix + hex(clientId);
  return { gte: base + "!", lt: base + '"' };
}

export function messageKey(clientId: string, seq: number, prefix = MESSAGE_PREFIX): string {
  return prefix + hex(clientId) + "!" + seq.toString(16).padStart(SEQ_DIGITS, "0");
}

/** Client id and seq of a message key (or a parked message key), or undefined for a malformed key. */
export function parseMessageKey(key: string): { clientId: string; seq: number } | undefined {
  const match = /^[mp]!((?:[0-9a-f]{2})+)!([0-9a-f]{12})$/.exec(key);
  if (match === null) return undefined;
  try {
    return { clientId: utf8Decoder.decode(Buffer.from(match[1]!, "hex")), seq: Number.parseInt(match[2]!, 16) };
  } catch {
    return undefined;
  }
}

export function encodeMessage(message: NewStoredMessage): Uint8Array {
  const topic = utf8.encode(message.topicName);
  const out = new Uint8Array(5 + topic.length + message.payload.length);
  out[0] = VERSION;
  out[1] = message.qos;
  out[2] = message.retain ? 1 : 0;
  out[3] = Math.floor(topic.length / 256);
  out[4] = topic.length % 256;
  out.set(topic, 5);
  out.set(message.payload, 5 + topic.length);
  return out;
}

export function decodeMessage(value: Uint8Array): NewStoredMessage | undefined {
  if (value.length < 5 || value[0] !== VERSION) return undefined;
  const qos = value[1];
  const retain = value[2];
  if ((qos !== 1 && qos !== 2) || (retain !== 0 && retain !== 1)) return undefined;
  const topicLength = value[3]! * 256 + value[4]!;
  if (5 + topicLength > value.length) return undefined;
  try {
    const topicName = utf8Decoder.decode(value.subarray(5, 5 + topicLength));
    return { topicName, payload: new Uint8Array(value.subarray(5 + topicLength)), qos, retain: retain === 1 };
  } catch {
    return undefined;
  }
}

/** A record with an optional will as its value: the version, then its JSON with the will's payload in base64. */
function encodeRecord(record: { will?: StoredWill }): Uint8Array {
  const { will, ...rest } = record;
  const json =
    will === undefined ? rest : { ...rest, will: { ...will, payload: Buffer.from(will.payload).toString("base64") } };
  const body = utf8.encode(JSON.stringify(json));
  const out = new Uint8Array(1 + body.length);
  out[0] = VERSION;
  out.set(body, 1);
  return out;
}

/** The JSON object of a record's value, or undefined when it is not one. */
function decodeRecord(value: Uint8Array): Record<string, unknown> | undefined {
  if (value.length < 2 || value[0] !== VERSION) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(utf8Decoder.decode(value.subarray(1)));
  } catch {
    return undefined;
  }
  return typeof json === "object" && json !== null ? (json as Record<string, unknown>) : undefined;
}

export function encodeSession(session: StoredSession): Uint8Array {
  return encodeRecord(session);
}

const STATES: StoredState[] = ["active", "asleep", "awake"];
const isQoS = (v: unknown): v is 0 | 1 | 2 => v === 0 || v === 1 || v === 2;
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

export function decodeSession(value: Uint8Array): StoredSession | undefined {
  const s = decodeRecord(value);
  if (s === undefined) return undefined;
  if (typeof s.clientId !== "string" || !STATES.includes(s.state as StoredState)) return undefined;
  if (!isCount(s.duration) || !isCount(s.keepAlive) || !isCount(s.lastHeardAt)) return undefined;
  if (typeof s.link !== "string" || typeof s.address !== "string") return undefined;
  if (!Array.isArray(s.subscriptions) || !Array.isArray(s.topicIds)) return undefined;
  const subscriptions = s.subscriptions.filter(
    (x): x is StoredSession["subscriptions"][number] => typeof x?.topicFilter === "string" && isQoS(x?.qos),
  );
  const topicIds = s.topicIds.filter(
    (x): x is StoredSession["topicIds"][number] => typeof x?.topicName === "string" && isCount(x?.topicId),
  );
  if (subscriptions.length !== s.subscriptions.length || topicIds.length !== s.topicIds.length) return undefined;
  const session: StoredSession = {
    clientId: s.clientId,
    state: s.state as StoredState,
    duration: s.duration,
    keepAlive: s.keepAlive,
    lastHeardAt: s.lastHeardAt,
    link: s.link,
    address: s.address,
    subscriptions: subscriptions.map((x) => ({ topicFilter: x.topicFilter, qos: x.qos })),
    topicIds: topicIds.map((x) => ({ topicName: x.topicName, topicId: x.topicId })),
  };
  if (s.will !== undefined) {
    const will = decodeWill(s.will);
    if (will === undefined) return undefined;
    session.will = will;
  }
  return session;
}

export function encodeDevice(device: StoredDevice): Uint8Array {
  return encodeRecord(device);
}

export function decodeDevice(value: Uint8Array): StoredDevice | undefined {
  const d = decodeRecord(value);
  if (d === undefined) return undefined;
  if (typeof d.clientId !== "string" || typeof d.persistent !== "boolean" || typeof d.connected !== "boolean")
    return undefined;
  if (!Array.isArray(d.subscriptions)) return undefined;
  const subscriptions = d.subscriptions.filter(
    (x): x is StoredDevice["subscriptions"][number] => typeof x?.topicFilter === "string" && isQoS(x?.qos),
  );
  if (subscriptions.length !== d.subscriptions.length) return undefined;
  const device: StoredDevice = {
    clientId: d.clientId,
    persistent: d.persistent,
    connected: d.connected,
    subscriptions: subscriptions.map((x) => ({ topicFilter: x.topicFilter, qos: x.qos })),
  };
  if (d.will !== undefined) {
    const will = decodeWill(d.will);
    if (will === undefined) return undefined;
    device.will = will;
  }
  return device;
}

function decodeWill(value: unknown): StoredWill | undefined {
  const w = value as Record<string, unknown>;
  if (
    typeof w !== "object" ||
    w === null ||
    typeof w.topicName !== "string" ||
    typeof w.payload !== "string" ||
    !isQoS(w.qos) ||
    typeof w.retain !== "boolean"
  )
    return undefined;
  return {
    topicName: w.topicName,
    payload: new Uint8Array(Buffer.from(w.payload, "base64")),
    qos: w.qos,
    retain: w.retain,
  };
}

/** A deep copy, so a store never shares arrays or bytes with its caller. */
export function copySession(session: StoredSession): StoredSession {
  const copy: StoredSession = {
    ...session,
    subscriptions: session.subscriptions.map((x) => ({ ...x })),
    topicIds: session.topicIds.map((x) => ({ ...x })),
  };
  if (session.will !== undefined) copy.will = { ...session.will, payload: session.will.payload.slice() };
  return copy;
}

export function copyDevice(device: StoredDevice): StoredDevice {
  const copy: StoredDevice = { ...device, subscriptions: device.subscriptions.map((x) => ({ ...x })) };
  if (device.will !== undefined) copy.will = { ...device.will, payload: device.will.payload.slice() };
  return copy;
}
