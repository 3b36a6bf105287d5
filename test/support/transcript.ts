import { fixtures, malformed } from "../protocol/fixtures";

/**
 * The cross-target check: every fixture and malformed frame is decoded, the message re-encoded and
 * measured, and the outcome printed as one canonical line per case. test/lua/transcript.lua prints
 * the same form from the Lua build; equal lines mean byte-identical results.
 */

/** A frame placed in a buffer: decode reads bytes[at .. at + length). */
export interface Case {
  name: string;
  at: number;
  length: number;
  bytes: number[];
  maxClientIdLength?: number;
}

/** What every build of the codec offers (Node import, Espruino bundle in a vm). */
export interface Codec {
  decode(buf: ArrayLike<number>, offset: number, length: number, options?: { maxClientIdLength?: number }): unknown;
  encode(message: never, buf: number[], offset: number): number;
  encodingLength(message: never): number;
}

/** Octets around a frame in the second placement: decode must neither read nor report outside it. */
const FENCE = 0xee;
const SHIFT = 3;

function bytesOf(hex: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  return bytes;
}

/** Each frame twice: alone at offset 0, and at offset 3 between fence octets. */
export function buildCases(): Case[] {
  const frames: { name: string; hex: string; maxClientIdLength?: number }[] = [...fixtures, ...malformed];
  const cases: Case[] = [];
  for (const frame of frames) {
    const bytes = bytesOf(frame.hex);
    const limit = frame.maxClientIdLength === undefined ? {} : { maxClientIdLength: frame.maxClientIdLength };
    cases.push({ name: frame.name, at: 0, length: bytes.length, bytes, ...limit });
    const fenced = [FENCE, FENCE, FENCE, ...bytes, FENCE];
    cases.push({
      name: `${frame.name} (at ${SHIFT}, fenced)`,
      at: SHIFT,
      length: bytes.length,
      bytes: fenced,
      ...limit,
    });
  }
  return cases;
}

/** A small deterministic generator (xorshift-free LCG on doubles), so every target sees the same frames. */
function generator(seed: number): (n: number) => number {
  let state = seed % 2147483647 || 1;
  return (n) => {
    state = (state * 48271) % 2147483647;
    return state % n;
  };
}

/**
 * count frames shaped like MQTT-SN: a Length octet that mostly tells the truth, a message type
 * (mostly a defined one), a short body of flag-like, ASCII, UTF-8 and random octets. Many decode;
 * many fail at some check: both exercise paths the fixtures may not reach.
 */
export function randomCases(count: number, seed: number): Case[] {
  const next = generator(seed);
  const types = [0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f];
  types.push(0x10, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1a, 0x1b, 0x1c, 0x1d, 0xfe, 0x03, 0x11, 0xff);
  const octet = (): number => {
    const kind = next(8);
    if (kind < 3) return 0x61 + next(26);
    if (kind === 3) return [0x00, 0x01, 0x02, 0x03, 0x20, 0x40, 0x60, 0x84, 0x88, 0xe3][next(10)] as number;
    if (kind === 4) return 0x80 + next(0x40);
    if (kind === 5) return [0xc3, 0xe2, 0xf0, 0xed, 0xf4, 0xc0][next(6)] as number;
    return next(256);
  };
  const frame = (type: number): number[] => {
    const body: number[] = [];
    const bodyLength = next(3) === 0 ? ([0, 1, 2, 3, 5, 6][next(6)] as number) : next(4) === 0 ? next(40) : next(9);
    for (let i = 0; i < bodyLength; i++) body.push(octet());
    if (type === 0x04 && body.length > 1 && next(4) !== 0) body[1] = 0x01;
    if (next(10) === 0) {
      const total = body.length + 4;
      return [0x01, Math.floor(total / 256), total % 256, type, ...body];
    }
    return [body.length + 2, type, ...body];
  };
  const cases: Case[] = [];
  for (let n = 0; n < count; n++) {
    const type = types[next(types.length)] as number;
    let bytes = frame(type);
    if (type === 0xfe) {
      const header = [0xfe, next(4)];
      for (let i = next(4); i > 0; i--) header.push(next(256));
      bytes = [header.length + 1, ...header, ...frame(types[next(types.length)] as number)];
    }
    if (next(8) === 0) bytes[0] = next(256);
    if (next(16) === 0) bytes.pop();
    const limit = next(4) === 0 ? { maxClientIdLength: 1 + next(8) } : {};
    cases.push({
      name: `random frame ${n}: ${Buffer.from(bytes).toString("hex")}`,
      at: 0,
      length: bytes.length,
      bytes,
      ...limit,
    });
  }
  return cases;
}

function isBytes(v: unknown): v is ArrayLike<number> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

function numberText(v: number): string {
  return Number.isInteger(v) && Math.abs(v) < 2 ** 53 ? String(v) : `float:${String(v)}`;
}

function byteText(b: unknown): string {
  if (typeof b === "number" && Number.isInteger(b) && b >= 0 && b <= 255) return b.toString(16).padStart(2, "0");
  if (typeof b === "number") return `<${numberText(b)}>`;
  return b === undefined ? "<nil>" : `<${String(b)}>`;
}

function hex(bytes: ArrayLike<number>, from: number, count: number): string {
  let s = "#";
  for (let i = 0; i < count; i++) s += byteText(bytes[from + i]);
  return s;
}

function stringText(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, "utf8")) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${byteText(b)}`;
  }
  return `${out}"`;
}

function isSlicePart(record: Record<string, unknown>, key: string): boolean {
  const match = /^(.+)(Offset|Length)$/.exec(key);
  if (!match) return false;
  const base = match[1] as string;
  return isBytes(record[base]) && record[`${base}Offset`] !== undefined && record[`${base}Length`] !== undefined;
}

/** A message: defined fields in sorted key order; (K, KOffset, KLength) becomes the slice's bytes. */
function recordText(record: Record<string, unknown>): string {
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined && !isSlicePart(record, k))
    .sort();
  const parts = keys.map((k) => {
    const v = record[k];
    const offset = record[`${k}Offset`];
    const length = record[`${k}Length`];
    if (isBytes(v) && typeof offset === "number" && typeof length === "number") {
      return `${k}=${hex(v, offset, length)}`;
    }
    return `${k}=${canonical(v)}`;
  });
  return `{${parts.join(",")}}`;
}

export function canonical(v: unknown): string {
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return numberText(v);
  if (typeof v === "string") return stringText(v);
  if (isBytes(v)) return hex(v, 0, v.length);
  if (typeof v === "object" && v !== null) return recordText(v as Record<string, unknown>);
  return `<${v === undefined ? "nil" : typeof v}>`;
}

function attempt<T>(f: () => T): { value: T } | undefined {
  try {
    return { value: f() };
  } catch {
    return undefined;
  }
}

/** The transcript line of one case, without its number (the Lua runner's line minus "N\t"). */
export function transcriptLine(codec: Codec, c: Case, input: ArrayLike<number>): string {
  const options = c.maxClientIdLength === undefined ? undefined : { maxClientIdLength: c.maxClientIdLength };
  const decoded = attempt(() => codec.decode(input, c.at, c.length, options));
  if (!decoded) return "decode threw";
  const message = decoded.value as { type?: unknown };
  const line = canonical(message);
  if (typeof message !== "object" || message === null || message.type === "error") return line;
  const length = attempt(() => codec.encodingLength(message as never));
  if (!length) return `${line}\tencodingLength threw`;
  const out = new Array<number>(c.at + length.value + 1).fill(FENCE);
  const written = attempt(() => codec.encode(message as never, out, c.at));
  if (!written) return `${line}\tencode threw`;
  return `${line}\t${hex(out, 0, out.length)}\t${canonical(written.value)}\t${canonical(length.value)}`;
}

export function transcript(codec: Codec, cases: Case[], toInput: (bytes: number[]) => ArrayLike<number>): string[] {
  return cases.map((c) => transcriptLine(codec, c, toInput(c.bytes)));
}

/** A module's runtime exports in the form test/lua/api.lua prints (enum tables without reverse entries). */
export function apiListing(exports: Record<string, unknown>): string {
  const valueText = (v: unknown): string =>
    typeof v === "number" ? String(v) : typeof v === "string" ? `"${v}"` : typeof v;
  return Object.keys(exports)
    .sort()
    .map((name) => {
      const v = exports[name];
      if (typeof v !== "object" || v === null) return `${name} ${valueText(v)}\n`;
      const entries = Object.entries(v)
        .filter(([k]) => !/^\d+$/.test(k))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, value]) => `${k}=${valueText(value)}`);
      return `${name} {${entries.join(",")}}\n`;
    })
    .join("");
}
