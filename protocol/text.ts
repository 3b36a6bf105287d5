import type { Bytes } from "./messages";

/**
 * UTF-8 without platform APIs. In JavaScript a string is UTF-16 and is converted; in Lua a string
 * already is its UTF-8 bytes, which this test tells apart at load time ("é" is one UTF-16 unit,
 * two Lua bytes).
 */
const STRINGS_ARE_BYTES = "\u00e9".length === 2;

/** Octets the UTF-8 form of s takes. Throws on a lone UTF-16 surrogate (a programmer error). */
export function utf8Length(s: string): number {
  if (STRINGS_ARE_BYTES) {
    return s.length;
  }
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const low = s.charCodeAt(i + 1);
    const pair = c >= 0xd800 && c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
    if (c >= 0xd800 && c <= 0xdfff && !pair) {
      throw new Error("string has a lone UTF-16 surrogate at index " + i + ": it has no UTF-8 form");
    }
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    i += pair ? 1 : 0;
  }
  return n;
}

/** Writes the UTF-8 form of s at offset; returns the octets written. Call utf8Length first to validate. */
export function writeUtf8(s: string, buf: Bytes, offset: number): number {
  let o = offset;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (STRINGS_ARE_BYTES || c < 0x80) {
      buf[o++] = c;
    } else if (c < 0x800) {
      buf[o++] = 0xc0 + Math.floor(c / 0x40);
      buf[o++] = 0x80 + (c % 0x40);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + (c - 0xd800) * 0x400 + (s.charCodeAt(i + 1) - 0xdc00);
      i++;
      buf[o++] = 0xf0 + Math.floor(c / 0x40000);
      buf[o++] = 0x80 + (Math.floor(c / 0x1000) % 0x40);
      buf[o++] = 0x80 + (Math.floor(c / 0x40) % 0x40);
      buf[o++] = 0x80 + (c % 0x40);
    } else {
      buf[o++] = 0xe0 + Math.floor(c / 0x1000);
      buf[o++] = 0x80 + (Math.floor(c / 0x40) % 0x40);
      buf[o++] = 0x80 + (c % 0x40);
    }
  }
  return o - offset;
}

function isContinuation(b: number | undefined): boolean {
  return b !== undefined && b >= 0x80 && b <= 0xbf;
}

/**
 * Length of the well-formed UTF-8 sequence starting at offset (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 when the octets there are not one.
 */
function sequenceLength(buf: Bytes, offset: number, end: number): number {
  const b0 = buf[offset] as number;
  if (b0 < 0x80) {
    return 1;
  }
  const b1 = offset + 1 < end ? buf[offset + 1] : undefined;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    return isContinuation(b1) ? 2 : 0;
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (b1 === undefined || offset + 2 >= end) {
      return 0;
    }
    const low = b0 === 0xe0 ? 0xa0 : 0x80;
    const high = b0 === 0xed ? 0x9f : 0xbf;
    return b1 >= low && b1 <= high && isContinuation(buf[offset + 2]) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (b1 === undefined || offset + 3 >= end) {
      return 0;
    }
    const low = b0 === 0xf0 ? 0x90 : 0x80;
    const high = b0 === 0xf4 ? 0x8f : 0xbf;
    return b1 >= low && b1 <= high && isContinuation(buf[offset + 2]) && isContinuation(buf[offset + 3]) ? 4 : 0;
  }
  return 0;
}

/** Code units a piece of readUtf8's result grows to before it is set aside for the final join. */
const PIECE = 32;

/**
 * The string whose UTF-8 form is buf[offset .. end), or the offset of the first octet that is not
 * well-formed UTF-8 (as a negative number minus one, so that 0 stays distinguishable).
 *
 * Linear in every build: characters are appended to a piece of at most PIECE code units, and the
 * pieces are joined once at the end (table.concat in Lua, where appending each character to the
 * whole string would copy it again every time).
 */
export function readUtf8(buf: Bytes, offset: number, end: number): string | number {
  const pieces: string[] = [];
  let piece = "";
  let i = offset;
  while (i < end) {
    const n = sequenceLength(buf, i, end);
    if (n === 0) {
      return -i - 1;
    }
    const b0 = buf[i] as number;
    if (STRINGS_ARE_BYTES) {
      for (let k = 0; k < n; k++) {
        piece += String.fromCharCode(buf[i + k] as number);
      }
    } else if (n === 1) {
      piece += String.fromCharCode(b0);
    } else if (n === 2) {
      piece += String.fromCharCode((b0 - 0xc0) * 0x40 + ((buf[i + 1] as number) - 0x80));
    } else if (n === 3) {
      piece += String.fromCharCode(
        (b0 - 0xe0) * 0x1000 + ((buf[i + 1] as number) - 0x80) * 0x40 + ((buf[i + 2] as number) - 0x80),
      );
    } else {
      const c =
        (b0 - 0xf0) * 0x40000 +
        ((buf[i + 1] as number) - 0x80) * 0x1000 +
        ((buf[i + 2] as number) - 0x80) * 0x40 +
        ((buf[i + 3] as number) - 0x80) -
        0x10000;
      piece += String.fromCharCode(0xd800 + Math.floor(c / 0x400), 0xdc00 + (c % 0x400));
    }
    i += n;
    if (piece.length >= PIECE) {
      pieces.push(piece);
      piece = "";
    }
  }
  pieces.push(piece);
  return pieces.join("");
}
