import type { Bytes } from "../../protocol/messages";

declare const E: {
  toUint8Array(s: string): Uint8Array;
  toString(data: Uint8Array): string;
  asUTF8(s: string): string;
};

/**
 * UTF-8 in the Espruino bundles, in place of protocol/text.ts (scripts/build-device-espruino.mjs
 * resolves it here). An Espruino string with characters beyond ASCII holds them as UTF-8 octets:
 * its length and charCodeAt count code points (beyond U+FFFF too, where the portable code expects
 * surrogate pairs and would write 3 octets), and E.toUint8Array gives its octets. A lone surrogate
 * cannot occur (Espruino refuses it when it parses the string). A byte string (from E.toString or
 * String.fromCharCode) gives its octets as they are. The octets are a short-lived copy, made for a
 * CONNECT, a REGISTER or a PINGREQ, never for a PUBLISH.
 */
export function utf8Length(s: string): number {
  return E.toUint8Array(s).length;
}

/** Writes the octets of s at offset. Unlike protocol/text.ts's, returns nothing: the client reads no count. */
export function writeUtf8(s: string, buf: Bytes, offset: number): void {
  (buf as unknown as Uint8Array).set(E.toUint8Array(s), offset);
}

/**
 * The string whose UTF-8 form is buf[offset .. end), or the offset of the first octet that is not
 * well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) as a
 * negative number minus one, as protocol/text.ts's readUtf8. The string is Espruino's own UTF-8
 * string of those octets (E.asUTF8, which checks nothing itself), so it equals the application's
 * string literals; String.fromCharCode, which the portable code uses, keeps only the low 8 bits of a
 * character code on Espruino.
 */
export function readUtf8(buf: Bytes, offset: number, end: number): string | number {
  let i = offset;
  while (i < end) {
    const b0 = buf[i] as number;
    // The octets a sequence has by its first: 80..C1 and F5..FF start none.
    const n = b0 < 0x80 ? 1 : b0 < 0xc2 ? 0 : b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : b0 < 0xf5 ? 4 : 0;
    // The second octet's range narrows after E0 and F0 (overlong), ED (surrogates) and F4 (above U+10FFFF).
    let low = b0 === 0xe0 ? 0xa0 : b0 === 0xf0 ? 0x90 : 0x80;
    let high = b0 === 0xed ? 0x9f : b0 === 0xf4 ? 0x8f : 0xbf;
    let ok = n > 0 && i + n <= end;
    for (let k = 1; k < n && ok; k++) {
      const c = buf[i + k] as number;
      ok = c >= low && c <= high;
      // The octets after the second: 80..BF.
      low = 0x80;
      high = 0xbf;
    }
    if (!ok) {
      return -i - 1;
    }
    i += n;
  }
  return E.asUTF8(E.toString((buf as unknown as Uint8Array).subarray(offset, end)));
}
