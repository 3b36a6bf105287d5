import { MAX_MESSAGE_LENGTH, MsgType, PROTOCOL_ID, TopicIdType } from "./constants";
import { encodeFlags } from "./flags";
import type { Bytes, Message, QoS } from "./messages";
import { utf8Length, writeUtf8 } from "./text";

/** Invalid messages are programmer errors: they throw with the field and the rule broken. */
function invalid(message: Message, why: string): Error {
  return new Error("cannot encode MQTT-SN message type 0x" + hex2(message.type) + ": " + why);
}

function hex2(n: number): string {
  const digits = "0123456789abcdef";
  return digits.charAt(Math.floor(n / 16)) + digits.charAt(n % 16);
}

function checkUint(message: Message, field: string, value: number, max: number): void {
  if (!(value >= 0 && value <= max && Math.floor(value) === value)) {
    throw invalid(message, field + " must be an integer in 0.." + max + ", got " + value);
  }
}

/** A raw slice (PUBLISH data, will message) must lie within its array. */
function checkSlice(
  message: Message,
  offsetField: string,
  lengthField: string,
  bytes: Bytes,
  offset: number,
  length: number,
): void {
  checkUint(message, offsetField, offset, bytes.length);
  checkUint(message, lengthField, length, bytes.length - offset);
}

function checkQos(message: Message, qos: QoS, allowMinusOne: boolean): void {
  if (!(qos === 0 || qos === 1 || qos === 2 || (allowMinusOne && qos === -1))) {
    throw invalid(message, "qos must be " + (allowMinusOne ? "-1, " : "") + "0, 1 or 2, got " + qos);
  }
}

function checkTopicIdType(message: Message, topicIdType: number): void {
  if (!(
    topicIdType === TopicIdType.Normal ||
    topicIdType === TopicIdType.Predefined ||
    topicIdType === TopicIdType.Short
  )) {
    throw invalid(message, "topicIdType must be 0, 1 or 2, got " + topicIdType);
  }
}

function nonEmpty(message: Message, field: string, s: string): number {
  const n = utf8Length(s);
  if (n === 0) {
    throw invalid(message, field + " must not be empty");
  }
  return n;
}

/** Octets of the body (after Length and MsgType), validating the message on the way. */
function bodyLength(message: Message): number {
  switch (message.type) {
    case MsgType.Advertise:
      checkUint(message, "gwId", message.gwId, 255);
      checkUint(message, "duration", message.duration, 65535);
      return 3;
    case MsgType.SearchGw:
      checkUint(message, "radius", message.radius, 255);
      return 1;
    case MsgType.GwInfo:
      checkUint(message, "gwId", message.gwId, 255);
      return 1 + message.gwAdd.length;
    case MsgType.Connect:
      checkUint(message, "duration", message.duration, 65535);
      return 4 + nonEmpty(message, "clientId", message.clientId);
    case MsgType.ConnAck:
    case MsgType.WillTopicResp:
    case MsgType.WillMsgResp:
      checkUint(message, "returnCode", message.returnCode, 255);
      return 1;
    case MsgType.WillTopicReq:
    case MsgType.WillMsgReq:
    case MsgType.PingResp:
      return 0;
    case MsgType.WillTopic:
    case MsgType.WillTopicUpd: {
      const n = utf8Length(message.willTopic);
      if (n > 0) {
        checkQos(message, message.qos, false);
      }
      return n === 0 ? 0 : 1 + n;
    }
    case MsgType.WillMsg:
    case MsgType.WillMsgUpd:
      checkSlice(
        message,
        "willMsgOffset",
        "willMsgLength",
        message.willMsg,
        message.willMsgOffset,
        message.willMsgLength,
      );
      return message.willMsgLength;
    case MsgType.Register:
      checkUint(message, "topicId", message.topicId, 65535);
      checkUint(message, "msgId", message.msgId, 65535);
      return 4 + nonEmpty(message, "topicName", message.topicName);
    case MsgType.RegAck:
    case MsgType.PubAck:
      checkUint(message, "topicId", message.topicId, 65535);
      checkUint(message, "msgId", message.msgId, 65535);
      checkUint(message, "returnCode", message.returnCode, 255);
      return 5;
    case MsgType.Publish:
      checkQos(message, message.qos, true);
      checkTopicIdType(message, message.topicIdType);
      checkUint(message, "topicId", message.topicId, 65535);
      checkUint(message, "msgId", message.msgId, 65535);
      checkSlice(message, "dataOffset", "dataLength", message.data, message.dataOffset, message.dataLength);
      return 5 + message.dataLength;
    case MsgType.PubComp:
    case MsgType.PubRec:
    case MsgType.PubRel:
    case MsgType.UnsubAck:
      checkUint(message, "msgId", message.msgId, 65535);
      return 2;
    case MsgType.Subscribe:
    case MsgType.Unsubscribe:
      if (message.type === MsgType.Subscribe) {
        checkQos(message, message.qos, true);
      }
      checkTopicIdType(message, message.topicIdType);
      checkUint(message, "msgId", message.msgId, 65535);
      if (message.topicIdType === TopicIdType.Normal) {
        return 3 + nonEmpty(message, "topicName", message.topicName);
      }
      checkUint(message, "topicId", message.topicId, 65535);
      return 5;
    case MsgType.SubAck:
      checkQos(message, message.qos, true);
      checkUint(message, "topicId", message.topicId, 65535);
      checkUint(message, "msgId", message.msgId, 65535);
      checkUint(message, "returnCode", message.returnCode, 255);
      return 6;
    case MsgType.PingReq:
      return message.clientId === undefined ? 0 : nonEmpty(message, "clientId", message.clientId);
    case MsgType.Disconnect:
      if (message.duration === undefined) {
        return 0;
      }
      checkUint(message, "duration", message.duration, 65535);
      return 2;
    case MsgType.Encapsulated:
      checkUint(message, "radius", message.radius, 3);
      if (message.message.type === MsgType.Encapsulated) {
        throw invalid(message, "an Encapsulated message cannot carry another one");
      }
      return 1 + message.wirelessNodeId.length;
  }
}

/** Octets of Length + MsgType + body: 2 for totals up to 255, 4 above (§5.2.1). */
function frameLength(body: number): number {
  return body + 2 <= 255 ? body + 2 : body + 4;
}

/**
 * Octets that encode(message) writes, for checking a link's MTU before sending. For Encapsulated
 * this is the header plus the whole inner message. Throws on an invalid message.
 */
export function encodingLength(message: Message): number {
  const own = frameLength(bodyLength(message));
  if (own > MAX_MESSAGE_LENGTH) {
    throw invalid(message, "message is " + own + " octets; MQTT-SN allows at most " + MAX_MESSAGE_LENGTH);
  }
  return message.type === MsgType.Encapsulated ? own + encodingLength(message.message) : own;
}

function putU16(buf: Bytes, offset: number, value: number): void {
  buf[offset] = Math.floor(value / 256);
  buf[offset + 1] = value % 256;
}

function copy(from: Bytes, fromOffset: number, length: number, to: Bytes, toOffset: number): void {
  for (let i = 0; i < length; i++) {
    to[toOffset + i] = from[fromOffset + i] as number;
  }
}

/**
 * Writes message into buf at offset and returns the octets written (encodingLength(message)).
 * The caller provides a buffer large enough. Throws on an invalid message (a programmer error).
 */
export function encode(message: Message, buf: Bytes, offset: number): number {
  const body = bodyLength(message);
  const total = frameLength(body);
  if (total > MAX_MESSAGE_LENGTH) {
    throw invalid(message, "message is " + total + " octets; MQTT-SN allows at most " + MAX_MESSAGE_LENGTH);
  }
  let o = offset;
  if (total <= 255) {
    buf[o++] = total;
  } else {
    buf[o++] = 0x01;
    putU16(buf, o, total);
    o += 2;
  }
  buf[o++] = message.type;
  switch (message.type) {
    case MsgType.Advertise:
      buf[o] = message.gwId;
      putU16(buf, o + 1, message.duration);
      break;
    case MsgType.SearchGw:
      buf[o] = message.radius;
      break;
    case MsgType.GwInfo:
      buf[o] = message.gwId;
      copy(message.gwAdd, 0, message.gwAdd.length, buf, o + 1);
      break;
    case MsgType.Connect:
      buf[o] = encodeFlags(false, 0, false, message.will, message.cleanSession, TopicIdType.Normal);
      buf[o + 1] = PROTOCOL_ID;
      putU16(buf, o + 2, message.duration);
      writeUtf8(message.clientId, buf, o + 4);
      break;
    case MsgType.ConnAck:
    case MsgType.WillTopicResp:
    case MsgType.WillMsgResp:
      buf[o] = message.returnCode;
      break;
    case MsgType.WillTopicReq:
    case MsgType.WillMsgReq:
    case MsgType.PingResp:
      break;
    case MsgType.WillTopic:
    case MsgType.WillTopicUpd:
      if (body > 0) {
        buf[o] = encodeFlags(false, message.qos, message.retain, false, false, TopicIdType.Normal);
        writeUtf8(message.willTopic, buf, o + 1);
      }
      break;
    case MsgType.WillMsg:
    case MsgType.WillMsgUpd:
      copy(message.willMsg, message.willMsgOffset, message.willMsgLength, buf, o);
      break;
    case MsgType.Register:
      putU16(buf, o, message.topicId);
      putU16(buf, o + 2, message.msgId);
      writeUtf8(message.topicName, buf, o + 4);
      break;
    case MsgType.RegAck:
    case MsgType.PubAck:
      putU16(buf, o, message.topicId);
      putU16(buf, o + 2, message.msgId);
      buf[o + 4] = message.returnCode;
      break;
    case MsgType.Publish:
      buf[o] = encodeFlags(message.dup, message.qos, message.retain, false, false, message.topicIdType);
      putU16(buf, o + 1, message.topicId);
      putU16(buf, o + 3, message.msgId);
      copy(message.data, message.dataOffset, message.dataLength, buf, o + 5);
      break;
    case MsgType.PubComp:
    case MsgType.PubRec:
    case MsgType.PubRel:
    case MsgType.UnsubAck:
      putU16(buf, o, message.msgId);
      break;
    case MsgType.Subscribe:
    case MsgType.Unsubscribe: {
      const dup = message.type === MsgType.Subscribe ? message.dup : false;
      const qos = message.type === MsgType.Subscribe ? message.qos : 0;
      buf[o] = encodeFlags(dup, qos, false, false, false, message.topicIdType);
      putU16(buf, o + 1, message.msgId);
      if (message.topicIdType === TopicIdType.Normal) {
        writeUtf8(message.topicName, buf, o + 3);
      } else {
        putU16(buf, o + 3, message.topicId);
      }
      break;
    }
    case MsgType.SubAck:
      buf[o] = encodeFlags(false, message.qos, false, false, false, TopicIdType.Normal);
      putU16(buf, o + 1, message.topicId);
      putU16(buf, o + 3, message.msgId);
      buf[o + 5] = message.returnCode;
      break;
    case MsgType.PingReq:
      if (message.clientId !== undefined) {
        writeUtf8(message.clientId, buf, o);
      }
      break;
    case MsgType.Disconnect:
      if (message.duration !== undefined) {
        putU16(buf, o, message.duration);
      }
      break;
    case MsgType.Encapsulated:
      buf[o] = message.radius;
      copy(message.wirelessNodeId, 0, message.wirelessNodeId.length, buf, o + 1);
      return total + encode(message.message, buf, offset + total);
  }
  return total;
}
