import { utf8Length } from "../../protocol/text";
import type { Bytes } from "../../protocol/messages";
import { MsgType } from "../../protocol/constants";

/**
 * The client's side of the wire format, written straight into its buffers: what a client sends is
 * encoded here, what a gateway sends is checked here and read in place by the client. The full codec
 * (protocol/) builds a message object per datagram; a board cannot afford that, nor its code.
 */

/**
 * Octets of a message whose body (after Length and MsgType) is `fixed` octets and the UTF-8 form of
 * name: the Length field is 1 octet for up to 255 octets in all, else 3 (§5.2.1). Names are
 * measured in UTF-8 octets, never by string length (UTF-16 code units in JavaScript).
 */
export function messageLength(fixed: number, name: string): number {
  const body = fixed + utf8Length(name);
  return body + 2 <= 255 ? body + 2 : body + 4;
}

/** Writes Length and MsgType for a body of `body` octets (§5.2); returns the offset of the body. */
export function frame(buf: Bytes, type: number, body: number): number {
  if (body + 2 <= 255) {
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

/** Copies data[offset .. offset + length) to buf at o; returns the offset after it. */
export function putBytes(buf: Bytes, o: number, data: Bytes, offset: number, length: number): number {
  for (let i = 0; i < length; i++) {
    buf[o + i] = data[offset + i] as number;
  }
  return o + length;
}

export function read16(buf: Bytes, o: number): number {
  return (buf[o] as number) * 256 + (buf[o + 1] as number);
}

/**
 * The Flags octet (§5.3.4): DUP 0x80, QoS in bits 6-5 (QoS -1 is 0b11), Retain 0x10, Will 0x08,
 * CleanSession 0x04, TopicIdType in bits 1-0. `rest` is the sum of the one-bit flags and TopicIdType.
 */
export function flags(qos: number, rest: number): number {
  return (qos < 0 ? 0x60 : qos * 0x20) + rest;
}

/** QoS of a Flags octet: 0, 1, 2, or -1 for 0b11. */
export function flagsQos(f: number): number {
  const q = Math.floor(f / 0x20) % 4;
  return q === 3 ? -1 : q;
}

/**
 * True when a body of n octets has the form §5.4 gives a message of this type from a gateway.
 * Whatever else arrives (a type only clients send, a reserved type, a wrong length) is malformed here.
 */
export function gatewayBodyFits(type: number, n: number): boolean {
  switch (type) {
    case MsgType.Advertise:
      return n === 3;
    case MsgType.GwInfo:
      return n >= 1;
    case MsgType.ConnAck:
    case MsgType.WillTopicResp:
    case MsgType.WillMsgResp:
      return n === 1;
    case MsgType.WillTopicReq:
    case MsgType.WillMsgReq:
    case MsgType.PingResp:
      return n === 0;
    case MsgType.Register:
      return n >= 5;
    case MsgType.RegAck:
    case MsgType.PubAck:
      return n === 5;
    case MsgType.Publish:
      return n >= 5;
    case MsgType.PubRec:
    case MsgType.PubRel:
    case MsgType.PubComp:
    case MsgType.UnsubAck:
      return n === 2;
    case MsgType.SubAck:
      return n === 6;
    case MsgType.Disconnect:
      return n === 0 || n === 2;
    default:
      return false;
  }
}
