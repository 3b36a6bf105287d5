import { utf8Length } from "../../protocol/text";
import type { Bytes } from "../../protocol/messages";
import { HAS_FULL } from "./has-full";

/**
 * The client's side of the wire format, written straight into its buffers: what a client sends is
 * encoded here, what a gateway sends is read in place by the client (the form of each message a
 * gateway sends is checked in SensorClient.receive). The full codec (protocol/) builds a message
 * object per datagram; a board cannot afford that, nor its code.
 */

/**
 * Octets of a message whose body (after Length and MsgType) is `fixed` octets and the UTF-8 form of
 * name: the Length field is 1 octet for up to 255 octets in all, else 3 (§5.2.1). Names are
 * measured in UTF-8 octets, never by string length (UTF-16 code units in JavaScript). A sensor-profile
 * bundle (HAS_FULL false) has the 1-octet form only: its messages are at most 255 octets (see
 * SensorClient's constructor).
 */
export function messageLength(fixed: number, name: string): number {
  const body = fixed + utf8Length(name);
  return HAS_FULL && body + 2 > 255 ? body + 4 : body + 2;
}

/** Writes Length and MsgType for a body of `body` octets (§5.2); returns the offset of the body. */
export function frame(buf: Bytes, type: number, body: number): number {
  if (!HAS_FULL || body + 2 <= 255) {
    buf[0] = body + 2;
    buf[1] = type;
    return 2;
  }
  buf[0] = 0x01;
  put16(buf, 1, body + 4);
  buf[3] = type;
  return 4;
}

export function put16(buf: Bytes, o: number, value: number): number {
  buf[o] = Math.floor(value / 256);
  buf[o + 1] = value % 256;
  return o + 2;
}

export function read16(buf: Bytes, o: number): number {
  return (buf[o] as number) * 256 + (buf[o + 1] as number);
}
