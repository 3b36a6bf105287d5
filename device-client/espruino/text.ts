import type { Bytes } from "../../protocol/messages";

declare const E: { toUint8Array(s: string): Uint8Array };

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

export function writeUtf8(s: string, buf: Bytes, offset: number): number {
  const octets = E.toUint8Array(s);
  (buf as unknown as Uint8Array).set(octets, offset);
  return octets.length;
}

export { readUtf8 } from "../../protocol/text";
