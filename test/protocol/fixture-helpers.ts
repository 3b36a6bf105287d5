import type { Message } from "../../protocol";

/** Anything indexable by octet position: a number[], a Node Buffer, a Uint8Array. */
export type ByteSource = ArrayLike<number>;

/** Octets from hex text; spaces and line breaks are ignored so fixtures can group fields. */
export function fromHex(hex: string): number[] {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new Error(`not hex octets: "${hex}"`);
  }
  const out: number[] = [];
  for (let i = 0; i < clean.length; i += 2) out.push(parseInt(clean.slice(i, i + 2), 16));
  return out;
}

/** Lower-case hex of bytes[offset .. offset + length), no separators. */
export function toHex(bytes: ByteSource, offset = 0, length = bytes.length - offset): string {
  let s = "";
  for (let i = offset; i < offset + length; i++) {
    const b = bytes[i];
    if (b === undefined || !Number.isInteger(b) || b < 0 || b > 255) {
      throw new Error(`octet ${i} is ${String(b)}, not 0..255`);
    }
    s += b.toString(16).padStart(2, "0");
  }
  return s;
}

/** Hex without the spaces a fixture uses to group its fields. */
export function hx(spaced: string): string {
  return toHex(fromHex(spaced));
}

/** The hex of an ASCII or UTF-8 string, for building fixtures in code. */
export function utf8Hex(s: string): string {
  return Buffer.from(s, "utf8").toString("hex");
}

/** A message in a comparable form: see normalise(). */
export type Normalised = Record<string, unknown>;

/**
 * A plain copy of message that compares equal whatever buffer its raw slices point into: the
 * PUBLISH payload (data, dataOffset, dataLength) becomes `data: "<hex>"` and the will message
 * (willMsg, willMsgOffset, willMsgLength) becomes `willMsg: "<hex>"`. Other octet arrays (gwAdd,
 * wirelessNodeId) become plain number arrays, Encapsulated.message is normalised too, and fields
 * whose value is undefined are left out (so JSON from another runtime compares the same).
 */
export function normalise(message: Message): Normalised {
  const source = message as unknown as Record<string, unknown>;
  const out: Normalised = {};
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    if (key === "dataOffset" || key === "dataLength" || key === "willMsgOffset" || key === "willMsgLength") continue;
    if (key === "data") {
      out.data = toHex(value as ByteSource, source.dataOffset as number, source.dataLength as number);
    } else if (key === "willMsg") {
      out.willMsg = toHex(value as ByteSource, source.willMsgOffset as number, source.willMsgLength as number);
    } else if (key === "gwAdd" || key === "wirelessNodeId") {
      out[key] = Array.from(value as ByteSource);
    } else if (key === "message") {
      out.message = normalise(value as Message);
    } else {
      out[key] = value;
    }
  }
  return out;
}
