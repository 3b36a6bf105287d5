import { MsgType, PROTOCOL_ID, SPEC_MAX_CLIENT_ID_LENGTH, TopicIdType } from "./constants";
import { DecodeErrorCode, type DecodeError } from "./errors";
import { flagsCleanSession, flagsDup, flagsQos, flagsRetain, flagsTopicIdType, flagsWill } from "./flags";
import type { Bytes, Message } from "./messages";
import { readUtf8 } from "./text";

export interface DecodeOptions {
  /** Longest client id accepted in CONNECT and PINGREQ, in UTF-8 octets; the spec says 23. */
  maxClientIdLength?: number;
  /**
   * An object to decode into instead of allocating one per message. It is overwritten by every
   * decode, and fields of earlier message types may stay on it: read only what `type` promises.
   * Errors and the parts of Encapsulated and GwInfo are still allocated.
   */
  into?: object;
}

/** Every message is built on this loose record and returned as the typed union. */
type Fields = Record<string, unknown>;

export type DecodeResult = Message | DecodeError;

function fail(code: DecodeErrorCode, offset: number): DecodeError {
  return { type: "error", code, offset };
}

function u16(buf: Bytes, offset: number): number {
  return (buf[offset] as number) * 256 + (buf[offset + 1] as number);
}

/** Octets a body of this type must have exactly, or -1 when it has a variable part. */
function fixedBodyLength(type: number): number {
  switch (type) {
    case MsgType.Advertise:
      return 3;
    case MsgType.SearchGw:
    case MsgType.ConnAck:
    case MsgType.WillTopicResp:
    case MsgType.WillMsgResp:
      return 1;
    case MsgType.WillTopicReq:
    case MsgType.WillMsgReq:
    case MsgType.PingResp:
      return 0;
    case MsgType.RegAck:
    case MsgType.PubAck:
      return 5;
    case MsgType.PubComp:
    case MsgType.PubRec:
    case MsgType.PubRel:
    case MsgType.UnsubAck:
      return 2;
    case MsgType.SubAck:
      return 6;
    default:
      return -1;
  }
}

/**
 * Shortest body of a variable-length type, or -1 when the type is reserved. A required string may
 * still be empty here: the body decoder reports that as ClientIdLength or EmptyString.
 */
function minimumBodyLength(type: number): number {
  switch (type) {
    case MsgType.GwInfo:
      return 1;
    case MsgType.Connect:
      return 4;
    case MsgType.WillTopic:
    case MsgType.WillTopicUpd:
    case MsgType.WillMsg:
    case MsgType.WillMsgUpd:
    case MsgType.PingReq:
    case MsgType.Disconnect:
      return 0;
    case MsgType.Register:
      return 4;
    case MsgType.Publish:
      return 5;
    case MsgType.Subscribe:
    case MsgType.Unsubscribe:
      return 3;
    case MsgType.Encapsulated:
      return 1;
    default:
      return -1;
  }
}

/**
 * Decodes the MQTT-SN message held in buf[offset .. offset + length) (§5). Never throws and never
 * reads outside that range: malformed input gives a DecodeError with a stable code and the offset
 * of the offending octet. A datagram longer than its Length field is rejected (TrailingBytes),
 * except behind an Encapsulated header, whose Length covers the header only (§5.5).
 */
export function decode(buf: Bytes, offset: number, length: number, options?: DecodeOptions): DecodeResult {
  return decodeAt(buf, offset, offset + length, options, false);
}

function decodeAt(
  buf: Bytes,
  start: number,
  end: number,
  options: DecodeOptions | undefined,
  nested: boolean,
): DecodeResult {
  if (end - start < 2) {
    return fail(DecodeErrorCode.BadLength, start);
  }
  let total = buf[start] as number;
  let header = 2;
  if (total === 0x01) {
    // §5.2.1: 0x01 announces a 3-octet Length: the total in the next two octets.
    if (end - start < 4) {
      return fail(DecodeErrorCode.BadLength, start);
    }
    total = u16(buf, start + 1);
    header = 4;
    if (total < 4) {
      return fail(DecodeErrorCode.BadLength, start + 1);
    }
  } else if (total < 2) {
    return fail(DecodeErrorCode.BadLength, start);
  }
  const type = buf[start + header - 1] as number;
  const bodyStart = start + header;
  const messageEnd = start + total;
  if (messageEnd > end) {
    return fail(DecodeErrorCode.Truncated, end);
  }
  if (type !== MsgType.Encapsulated && messageEnd < end) {
    return fail(DecodeErrorCode.TrailingBytes, messageEnd);
  }
  const bodyLength = total - header;
  const fixed = fixedBodyLength(type);
  if (fixed >= 0) {
    if (bodyLength !== fixed) {
      return fail(DecodeErrorCode.BadBodyLength, bodyStart + (bodyLength < fixed ? bodyLength : fixed));
    }
  } else {
    const minimum = minimumBodyLength(type);
    if (minimum < 0) {
      return fail(DecodeErrorCode.ReservedType, start + header - 1);
    }
    if (bodyLength < minimum) {
      return fail(DecodeErrorCode.BadBodyLength, messageEnd);
    }
  }
  const m: Fields = options !== undefined && options.into !== undefined ? (options.into as Fields) : {};
  m.type = type;
  const failure = decodeBody(m, type, buf, bodyStart, messageEnd, end, options, nested);
  if (failure !== undefined) {
    return failure;
  }
  return m as unknown as Message;
}

function decodeBody(
  m: Fields,
  type: number,
  buf: Bytes,
  o: number,
  messageEnd: number,
  end: number,
  options: DecodeOptions | undefined,
  nested: boolean,
): DecodeError | undefined {
  switch (type) {
    case MsgType.Advertise:
      m.gwId = buf[o];
      m.duration = u16(buf, o + 1);
      return undefined;
    case MsgType.SearchGw:
      m.radius = buf[o];
      return undefined;
    case MsgType.GwInfo:
      return decodeGwInfo(m, buf, o, messageEnd);
    case MsgType.Connect:
      return decodeConnect(m, buf, o, messageEnd, options);
    case MsgType.ConnAck:
    case MsgType.WillTopicResp:
    case MsgType.WillMsgResp:
      m.returnCode = buf[o];
      return undefined;
    case MsgType.WillTopicReq:
    case MsgType.WillMsgReq:
    case MsgType.PingResp:
      return undefined;
    case MsgType.WillTopic:
    case MsgType.WillTopicUpd:
      return decodeWillTopic(m, buf, o, messageEnd);
    case MsgType.WillMsg:
    case MsgType.WillMsgUpd:
      m.willMsg = buf;
      m.willMsgOffset = o;
      m.willMsgLength = messageEnd - o;
      return undefined;
    case MsgType.Register:
      return decodeRegister(m, buf, o, messageEnd);
    case MsgType.RegAck:
    case MsgType.PubAck:
      m.topicId = u16(buf, o);
      m.msgId = u16(buf, o + 2);
      m.returnCode = buf[o + 4];
      return undefined;
    case MsgType.Publish:
      return decodePublish(m, buf, o, messageEnd);
    case MsgType.PubComp:
    case MsgType.PubRec:
    case MsgType.PubRel:
    case MsgType.UnsubAck:
      m.msgId = u16(buf, o);
      return undefined;
    case MsgType.Subscribe:
    case MsgType.Unsubscribe:
      return decodeSubscription(m, type, buf, o, messageEnd);
    case MsgType.SubAck:
      m.qos = flagsQos(buf[o] as number);
      m.topicId = u16(buf, o + 1);
      m.msgId = u16(buf, o + 3);
      m.returnCode = buf[o + 5];
      return undefined;
    case MsgType.PingReq:
      return decodePingReq(m, buf, o, messageEnd, options);
    case MsgType.Disconnect:
      return decodeDisconnect(m, buf, o, messageEnd);
    default:
      return decodeEncapsulated(m, buf, o, messageEnd, end, options, nested);
  }
}

function decodeString(m: Fields, field: string, buf: Bytes, o: number, end: number): DecodeError | undefined {
  const s = readUtf8(buf, o, end);
  if (typeof s === "number") {
    return fail(DecodeErrorCode.BadUtf8, -s - 1);
  }
  m[field] = s;
  return undefined;
}

function decodeGwInfo(m: Fields, buf: Bytes, o: number, end: number): undefined {
  m.gwId = buf[o];
  const gwAdd: number[] = [];
  for (let i = o + 1; i < end; i++) {
    gwAdd.push(buf[i] as number);
  }
  m.gwAdd = gwAdd;
  return undefined;
}

function clientIdLimit(options: DecodeOptions | undefined): number {
  return options !== undefined && options.maxClientIdLength !== undefined
    ? options.maxClientIdLength
    : SPEC_MAX_CLIENT_ID_LENGTH;
}

function decodeConnect(
  m: Fields,
  buf: Bytes,
  o: number,
  end: number,
  options: DecodeOptions | undefined,
): DecodeError | undefined {
  const flags = buf[o] as number;
  if (buf[o + 1] !== PROTOCOL_ID) {
    return fail(DecodeErrorCode.BadProtocolId, o + 1);
  }
  const idLength = end - (o + 4);
  if (idLength < 1 || idLength > clientIdLimit(options)) {
    return fail(DecodeErrorCode.ClientIdLength, o + 4);
  }
  m.will = flagsWill(flags);
  m.cleanSession = flagsCleanSession(flags);
  m.duration = u16(buf, o + 2);
  return decodeString(m, "clientId", buf, o + 4, end);
}

function decodeWillTopic(m: Fields, buf: Bytes, o: number, end: number): DecodeError | undefined {
  if (o === end) {
    // §5.4.7: an empty WILLTOPIC (Length 2) means "no will"; an empty WILLTOPICUPD deletes it.
    m.qos = 0;
    m.retain = false;
    m.willTopic = "";
    return undefined;
  }
  if (end - o < 2) {
    return fail(DecodeErrorCode.EmptyString, end);
  }
  const flags = buf[o] as number;
  const qos = flagsQos(flags);
  if (qos === -1) {
    return fail(DecodeErrorCode.BadQos, o);
  }
  m.qos = qos;
  m.retain = flagsRetain(flags);
  return decodeString(m, "willTopic", buf, o + 1, end);
}

function decodeRegister(m: Fields, buf: Bytes, o: number, end: number): DecodeError | undefined {
  m.topicId = u16(buf, o);
  m.msgId = u16(buf, o + 2);
  if (end === o + 4) {
    return fail(DecodeErrorCode.EmptyString, end);
  }
  return decodeString(m, "topicName", buf, o + 4, end);
}

function decodePublish(m: Fields, buf: Bytes, o: number, end: number): DecodeError | undefined {
  const flags = buf[o] as number;
  const topicIdType = flagsTopicIdType(flags);
  if (topicIdType === 3) {
    return fail(DecodeErrorCode.ReservedTopicIdType, o);
  }
  m.dup = flagsDup(flags);
  m.qos = flagsQos(flags);
  m.retain = flagsRetain(flags);
  m.topicIdType = topicIdType;
  m.topicId = u16(buf, o + 1);
  m.msgId = u16(buf, o + 3);
  m.data = buf;
  m.dataOffset = o + 5;
  m.dataLength = end - (o + 5);
  return undefined;
}

function decodeSubscription(m: Fields, type: number, buf: Bytes, o: number, end: number): DecodeError | undefined {
  const flags = buf[o] as number;
  const topicIdType = flagsTopicIdType(flags);
  if (topicIdType === 3) {
    return fail(DecodeErrorCode.ReservedTopicIdType, o);
  }
  if (type === MsgType.Subscribe) {
    m.dup = flagsDup(flags);
    m.qos = flagsQos(flags);
  }
  m.topicIdType = topicIdType;
  m.msgId = u16(buf, o + 1);
  if (topicIdType === TopicIdType.Normal) {
    m.topicId = 0;
    if (end === o + 3) {
      return fail(DecodeErrorCode.EmptyString, end);
    }
    return decodeString(m, "topicName", buf, o + 3, end);
  }
  if (end - (o + 3) !== 2) {
    return fail(DecodeErrorCode.BadBodyLength, o + 3);
  }
  m.topicName = "";
  m.topicId = u16(buf, o + 3);
  return undefined;
}

function decodePingReq(
  m: Fields,
  buf: Bytes,
  o: number,
  end: number,
  options: DecodeOptions | undefined,
): DecodeError | undefined {
  if (o === end) {
    m.clientId = undefined;
    return undefined;
  }
  if (end - o > clientIdLimit(options)) {
    return fail(DecodeErrorCode.ClientIdLength, o);
  }
  return decodeString(m, "clientId", buf, o, end);
}

function decodeDisconnect(m: Fields, buf: Bytes, o: number, end: number): DecodeError | undefined {
  if (o === end) {
    m.duration = undefined;
    return undefined;
  }
  if (end - o !== 2) {
    return fail(DecodeErrorCode.BadBodyLength, o);
  }
  m.duration = u16(buf, o);
  return undefined;
}

function decodeEncapsulated(
  m: Fields,
  buf: Bytes,
  o: number,
  headerEnd: number,
  end: number,
  options: DecodeOptions | undefined,
  nested: boolean,
): DecodeError | undefined {
  if (nested) {
    return fail(DecodeErrorCode.NestedEncapsulation, o - 1);
  }
  m.radius = (buf[o] as number) % 4;
  const wirelessNodeId: number[] = [];
  for (let i = o + 1; i < headerEnd; i++) {
    wirelessNodeId.push(buf[i] as number);
  }
  m.wirelessNodeId = wirelessNodeId;
  const innerOptions: DecodeOptions = { maxClientIdLength: clientIdLimit(options) };
  const inner = decodeAt(buf, headerEnd, end, innerOptions, true);
  if (inner.type === "error") {
    return inner;
  }
  m.message = inner;
  return undefined;
}
