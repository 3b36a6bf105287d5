import { DecodeErrorCode, MsgType, ReturnCode, TopicIdType, type Message, type QoS } from "../../protocol";
import { fromHex, hx, toHex, utf8Hex } from "./fixture-helpers";

/**
 * One annotated byte fixture per message type and variant. `hex` is the whole datagram; `message`
 * is what decode returns and encode takes. Raw byte fields (PUBLISH data, WILLMSG) are given as
 * fresh arrays with offset 0; tests compare them through normalise() in fixture-helpers.ts.
 */
export interface Fixture {
  name: string;
  /** One English line saying what the octets are. */
  says: string;
  hex: string;
  message: Message;
}

/** A frame decode must reject: the stable code and the offset of the offending octet. */
export interface Malformed {
  name: string;
  hex: string;
  code: DecodeErrorCode;
  /** Counted from the first octet of hex. */
  offset: number;
  /** Decode option; the spec's 23 when absent. */
  maxClientIdLength?: number;
}

function publish(
  flags: { dup?: boolean; qos: QoS; retain?: boolean; topicIdType: TopicIdType },
  topicId: number,
  msgId: number,
  dataHex: string,
): Message {
  const data = fromHex(dataHex);
  return {
    type: MsgType.Publish,
    dup: flags.dup === true,
    qos: flags.qos,
    retain: flags.retain === true,
    topicIdType: flags.topicIdType,
    topicId,
    msgId,
    data,
    dataOffset: 0,
    dataLength: data.length,
  };
}

function willMsg(type: MsgType.WillMsg | MsgType.WillMsgUpd, hex: string): Message {
  const bytes = fromHex(hex);
  return { type, willMsg: bytes, willMsgOffset: 0, willMsgLength: bytes.length };
}

/** Octets 0, 1, 2 … n-1 (mod 256), as hex: a payload whose every position is recognisable. */
function countingHex(n: number): string {
  const bytes: number[] = [];
  for (let i = 0; i < n; i++) bytes.push(i % 256);
  return toHex(bytes);
}

/** "Zähler-東京-🌡": 2-, 3- and 4-octet UTF-8 sequences, 19 octets in all. */
const NON_ASCII_CLIENT_ID = "Zähler-東京-🌡";

export const fixtures: Fixture[] = [
  // ADVERTISE, §5.4.1
  {
    name: "ADVERTISE",
    says: "len 5, ADVERTISE, gw id 1, duration 900 s",
    hex: hx("05 00 01 0384"),
    message: { type: MsgType.Advertise, gwId: 1, duration: 900 },
  },
  // SEARCHGW, §5.4.2
  {
    name: "SEARCHGW",
    says: "len 3, SEARCHGW, radius 1",
    hex: hx("03 01 01"),
    message: { type: MsgType.SearchGw, radius: 1 },
  },
  // GWINFO, §5.4.3
  {
    name: "GWINFO from a gateway",
    says: "len 3, GWINFO, gw id 7, no GwAdd",
    hex: hx("03 02 07"),
    message: { type: MsgType.GwInfo, gwId: 7, gwAdd: [] },
  },
  {
    name: "GWINFO from a client with GwAdd",
    says: "len 7, GWINFO, gw id 7, GwAdd c0 a8 01 0a (the gateway's address as the client knows it)",
    hex: hx("07 02 07 c0a8010a"),
    message: { type: MsgType.GwInfo, gwId: 7, gwAdd: [0xc0, 0xa8, 0x01, 0x0a] },
  },
  // CONNECT, §5.4.4
  {
    name: "CONNECT clean session, no will",
    says: "len 13, CONNECT, flags CleanSession, protocol id 1, duration 60, client id 'sensor1'",
    hex: hx("0d 04 04 01 003c" + utf8Hex("sensor1")),
    message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "sensor1" },
  },
  {
    name: "CONNECT will and clean session",
    says: "len 8, CONNECT, flags Will+CleanSession, protocol id 1, duration 60, client id 's1'",
    hex: hx("08 04 0c 01 003c 7331"),
    message: { type: MsgType.Connect, will: true, cleanSession: true, duration: 60, clientId: "s1" },
  },
  {
    name: "CONNECT will, persistent session",
    says: "len 7, CONNECT, flags Will, protocol id 1, duration 0 (no keep-alive), client id 'a'",
    hex: hx("07 04 08 01 0000 61"),
    message: { type: MsgType.Connect, will: true, cleanSession: false, duration: 0, clientId: "a" },
  },
  {
    name: "CONNECT no flags, longest duration",
    says: "len 7, CONNECT, flags 0, protocol id 1, duration 65535, client id 'b'",
    hex: hx("07 04 00 01 ffff 62"),
    message: { type: MsgType.Connect, will: false, cleanSession: false, duration: 65535, clientId: "b" },
  },
  {
    name: "CONNECT non-ASCII client id",
    says: "len 25, CONNECT, flags CleanSession, protocol id 1, duration 30, client id 'Zähler-東京-🌡' (19 UTF-8 octets)",
    hex: hx("19 04 04 01 001e 5a c3a4 686c6572 2d e69db1 e4baac 2d f09f8ca1"),
    message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 30, clientId: NON_ASCII_CLIENT_ID },
  },
  {
    name: "CONNECT client id of 23 octets (the spec's limit)",
    says: "len 29, CONNECT, flags CleanSession, protocol id 1, duration 10, client id of 23 'x'",
    hex: hx("1d 04 04 01 000a" + "78".repeat(23)),
    message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 10, clientId: "x".repeat(23) },
  },
  // CONNACK, §5.4.5
  {
    name: "CONNACK accepted",
    says: "len 3, CONNACK, return code accepted",
    hex: hx("03 05 00"),
    message: { type: MsgType.ConnAck, returnCode: ReturnCode.Accepted },
  },
  {
    name: "CONNACK congestion",
    says: "len 3, CONNACK, return code rejected: congestion",
    hex: hx("03 05 01"),
    message: { type: MsgType.ConnAck, returnCode: ReturnCode.Congestion },
  },
  // WILLTOPICREQ, §5.4.6
  {
    name: "WILLTOPICREQ",
    says: "len 2, WILLTOPICREQ",
    hex: hx("02 06"),
    message: { type: MsgType.WillTopicReq },
  },
  // WILLTOPIC, §5.4.7
  {
    name: "WILLTOPIC qos 1 retain",
    says: "len 11, WILLTOPIC, flags qos1+Retain, will topic 'dev/will'",
    hex: hx("0b 07 30" + utf8Hex("dev/will")),
    message: { type: MsgType.WillTopic, qos: 1, retain: true, willTopic: "dev/will" },
  },
  {
    name: "WILLTOPIC qos 0",
    says: "len 4, WILLTOPIC, flags qos0, will topic 'w'",
    hex: hx("04 07 00 77"),
    message: { type: MsgType.WillTopic, qos: 0, retain: false, willTopic: "w" },
  },
  {
    name: "WILLTOPIC qos 2",
    says: "len 4, WILLTOPIC, flags qos2, will topic 'w'",
    hex: hx("04 07 40 77"),
    message: { type: MsgType.WillTopic, qos: 2, retain: false, willTopic: "w" },
  },
  {
    name: "WILLTOPIC empty (no will)",
    says: "len 2, WILLTOPIC, no flags and no topic: the client has no will (§5.4.7)",
    hex: hx("02 07"),
    message: { type: MsgType.WillTopic, qos: 0, retain: false, willTopic: "" },
  },
  // WILLMSGREQ, §5.4.8
  {
    name: "WILLMSGREQ",
    says: "len 2, WILLMSGREQ",
    hex: hx("02 08"),
    message: { type: MsgType.WillMsgReq },
  },
  // WILLMSG, §5.4.9
  {
    name: "WILLMSG",
    says: "len 9, WILLMSG, will message 'offline'",
    hex: hx("09 09" + utf8Hex("offline")),
    message: willMsg(MsgType.WillMsg, utf8Hex("offline")),
  },
  {
    name: "WILLMSG binary",
    says: "len 5, WILLMSG, will message 00 ff 80 (raw octets, not UTF-8)",
    hex: hx("05 09 00ff80"),
    message: willMsg(MsgType.WillMsg, "00ff80"),
  },
  // REGISTER, §5.4.10
  {
    name: "REGISTER client form",
    says: "len 16, REGISTER, topic id 0 (client asks for one), msg id 1, topic name 'temp/room1'",
    hex: hx("10 0a 0000 0001" + utf8Hex("temp/room1")),
    message: { type: MsgType.Register, topicId: 0, msgId: 1, topicName: "temp/room1" },
  },
  {
    name: "REGISTER gateway form",
    says: "len 9, REGISTER, topic id 33, msg id 515, topic name 'a/b'",
    hex: hx("09 0a 0021 0203 612f62"),
    message: { type: MsgType.Register, topicId: 33, msgId: 515, topicName: "a/b" },
  },
  {
    name: "REGISTER non-ASCII topic name",
    says: "len 11, REGISTER, topic id 2, msg id 3, topic name 'café' ('é' is c3 a9)",
    hex: hx("0b 0a 0002 0003 636166c3a9"),
    message: { type: MsgType.Register, topicId: 2, msgId: 3, topicName: "café" },
  },
  // REGACK, §5.4.11
  {
    name: "REGACK accepted",
    says: "len 7, REGACK, topic id 33, msg id 1, return code accepted",
    hex: hx("07 0b 0021 0001 00"),
    message: { type: MsgType.RegAck, topicId: 33, msgId: 1, returnCode: ReturnCode.Accepted },
  },
  {
    name: "REGACK not supported",
    says: "len 7, REGACK, topic id 0, msg id 65535, return code not supported",
    hex: hx("07 0b 0000 ffff 03"),
    message: { type: MsgType.RegAck, topicId: 0, msgId: 65535, returnCode: ReturnCode.NotSupported },
  },
  // PUBLISH, §5.4.12
  {
    name: "PUBLISH qos 0",
    says: "len 11, PUBLISH, flags qos0 normal, topic id 1, msg id 0, data '21.5'",
    hex: hx("0b 0c 00 0001 0000 32312e35"),
    message: publish({ qos: 0, topicIdType: TopicIdType.Normal }, 1, 0, "32312e35"),
  },
  {
    name: "PUBLISH qos 1 normal topic id",
    says: "len 9, PUBLISH, flags qos1, topic id 5, msg id 258, data 'hi'",
    hex: hx("09 0c 20 0005 0102 6869"),
    message: publish({ qos: 1, topicIdType: TopicIdType.Normal }, 5, 258, "6869"),
  },
  {
    name: "PUBLISH qos 2",
    says: "len 9, PUBLISH, flags qos2 normal, topic id 5, msg id 48879, data 00 ff",
    hex: hx("09 0c 40 0005 beef 00ff"),
    message: publish({ qos: 2, topicIdType: TopicIdType.Normal }, 5, 0xbeef, "00ff"),
  },
  {
    name: "PUBLISH qos -1 predefined topic id",
    says: "len 8, PUBLISH, flags qos-1 (11) predefined, topic id 16, msg id 0, data 'x'",
    hex: hx("08 0c 61 0010 0000 78"),
    message: publish({ qos: -1, topicIdType: TopicIdType.Predefined }, 16, 0, "78"),
  },
  {
    name: "PUBLISH qos -1 short topic name",
    says: "len 8, PUBLISH, flags qos-1 short, topic 'ab' in the topic id field, msg id 0, data 'x'",
    hex: hx("08 0c 62 6162 0000 78"),
    message: publish({ qos: -1, topicIdType: TopicIdType.Short }, 0x6162, 0, "78"),
  },
  {
    name: "PUBLISH DUP qos 1",
    says: "len 8, PUBLISH, flags DUP+qos1 normal, topic id 5, msg id 3, data 01",
    hex: hx("08 0c a0 0005 0003 01"),
    message: publish({ dup: true, qos: 1, topicIdType: TopicIdType.Normal }, 5, 3, "01"),
  },
  {
    name: "PUBLISH retain qos 0",
    says: "len 8, PUBLISH, flags qos0+Retain normal, topic id 5, msg id 0, data 01",
    hex: hx("08 0c 10 0005 0000 01"),
    message: publish({ retain: true, qos: 0, topicIdType: TopicIdType.Normal }, 5, 0, "01"),
  },
  {
    name: "PUBLISH qos 1 predefined topic id",
    says: "len 8, PUBLISH, flags qos1 predefined, topic id 65535, msg id 9, data 2a",
    hex: hx("08 0c 21 ffff 0009 2a"),
    message: publish({ qos: 1, topicIdType: TopicIdType.Predefined }, 65535, 9, "2a"),
  },
  {
    name: "PUBLISH qos 2 retain short topic name",
    says: "len 8, PUBLISH, flags qos2+Retain short, topic 'hi', msg id 10, data 2a",
    hex: hx("08 0c 52 6869 000a 2a"),
    message: publish({ qos: 2, retain: true, topicIdType: TopicIdType.Short }, 0x6869, 10, "2a"),
  },
  {
    name: "PUBLISH empty payload",
    says: "len 7, PUBLISH, flags qos0 normal, topic id 5, msg id 0, no data",
    hex: hx("07 0c 00 0005 0000"),
    message: publish({ qos: 0, topicIdType: TopicIdType.Normal }, 5, 0, ""),
  },
  {
    name: "PUBLISH 255 octets (largest 1-octet Length)",
    says: "len 255, PUBLISH, flags qos0 normal, topic id 5, msg id 0, data 00 01 … f7 (248 octets)",
    hex: hx("ff 0c 00 0005 0000" + countingHex(248)),
    message: publish({ qos: 0, topicIdType: TopicIdType.Normal }, 5, 0, countingHex(248)),
  },
  {
    name: "PUBLISH 258 octets (3-octet Length just above 255)",
    says: "len 01 0102 (258), PUBLISH, flags qos0 normal, topic id 5, msg id 0, data of 249 octets",
    hex: hx("01 0102 0c 00 0005 0000" + countingHex(249)),
    message: publish({ qos: 0, topicIdType: TopicIdType.Normal }, 5, 0, countingHex(249)),
  },
  {
    name: "PUBLISH 3-octet Length, 300-octet payload",
    says: "len 01 0135 (309), PUBLISH, flags qos1 normal, topic id 7, msg id 9, data 00 01 … 2b (300 octets)",
    hex: hx("01 0135 0c 20 0007 0009" + countingHex(300)),
    message: publish({ qos: 1, topicIdType: TopicIdType.Normal }, 7, 9, countingHex(300)),
  },
  // PUBACK, §5.4.13
  {
    name: "PUBACK accepted",
    says: "len 7, PUBACK, topic id 5, msg id 258, return code accepted",
    hex: hx("07 0d 0005 0102 00"),
    message: { type: MsgType.PubAck, topicId: 5, msgId: 258, returnCode: ReturnCode.Accepted },
  },
  {
    name: "PUBACK invalid topic id",
    says: "len 7, PUBACK, topic id 5, msg id 258, return code rejected: invalid topic id",
    hex: hx("07 0d 0005 0102 02"),
    message: { type: MsgType.PubAck, topicId: 5, msgId: 258, returnCode: ReturnCode.InvalidTopicId },
  },
  // PUBREC, PUBREL, PUBCOMP, §5.4.14
  {
    name: "PUBREC",
    says: "len 4, PUBREC, msg id 258",
    hex: hx("04 0f 0102"),
    message: { type: MsgType.PubRec, msgId: 258 },
  },
  {
    name: "PUBREL",
    says: "len 4, PUBREL, msg id 258",
    hex: hx("04 10 0102"),
    message: { type: MsgType.PubRel, msgId: 258 },
  },
  {
    name: "PUBCOMP",
    says: "len 4, PUBCOMP, msg id 258",
    hex: hx("04 0e 0102"),
    message: { type: MsgType.PubComp, msgId: 258 },
  },
  // SUBSCRIBE, §5.4.15
  {
    name: "SUBSCRIBE by topic name",
    says: "len 8, SUBSCRIBE, flags qos1 normal, msg id 1, topic name 'a/b'",
    hex: hx("08 12 20 0001 612f62"),
    message: {
      type: MsgType.Subscribe,
      dup: false,
      qos: 1,
      topicIdType: TopicIdType.Normal,
      msgId: 1,
      topicName: "a/b",
      topicId: 0,
    },
  },
  {
    name: "SUBSCRIBE wildcard filter",
    says: "len 12, SUBSCRIBE, flags qos0 normal, msg id 2, topic filter 's/+/t/#'",
    hex: hx("0c 12 00 0002" + utf8Hex("s/+/t/#")),
    message: {
      type: MsgType.Subscribe,
      dup: false,
      qos: 0,
      topicIdType: TopicIdType.Normal,
      msgId: 2,
      topicName: "s/+/t/#",
      topicId: 0,
    },
  },
  {
    name: "SUBSCRIBE predefined topic id",
    says: "len 7, SUBSCRIBE, flags qos2 predefined, msg id 3, topic id 16",
    hex: hx("07 12 41 0003 0010"),
    message: {
      type: MsgType.Subscribe,
      dup: false,
      qos: 2,
      topicIdType: TopicIdType.Predefined,
      msgId: 3,
      topicName: "",
      topicId: 16,
    },
  },
  {
    name: "SUBSCRIBE short topic name",
    says: "len 7, SUBSCRIBE, flags qos1 short, msg id 4, topic 'ab'",
    hex: hx("07 12 22 0004 6162"),
    message: {
      type: MsgType.Subscribe,
      dup: false,
      qos: 1,
      topicIdType: TopicIdType.Short,
      msgId: 4,
      topicName: "",
      topicId: 0x6162,
    },
  },
  {
    name: "SUBSCRIBE DUP",
    says: "len 6, SUBSCRIBE, flags DUP+qos1 normal, msg id 5, topic name 'a' (a retransmission)",
    hex: hx("06 12 a0 0005 61"),
    message: {
      type: MsgType.Subscribe,
      dup: true,
      qos: 1,
      topicIdType: TopicIdType.Normal,
      msgId: 5,
      topicName: "a",
      topicId: 0,
    },
  },
  // SUBACK, §5.4.16
  {
    name: "SUBACK",
    says: "len 8, SUBACK, flags qos1, topic id 33, msg id 1, return code accepted",
    hex: hx("08 13 20 0021 0001 00"),
    message: { type: MsgType.SubAck, qos: 1, topicId: 33, msgId: 1, returnCode: ReturnCode.Accepted },
  },
  {
    name: "SUBACK wildcard filter",
    says: "len 8, SUBACK, flags qos0, topic id 0 (a wildcard filter has none), msg id 2, return code accepted",
    hex: hx("08 13 00 0000 0002 00"),
    message: { type: MsgType.SubAck, qos: 0, topicId: 0, msgId: 2, returnCode: ReturnCode.Accepted },
  },
  // UNSUBSCRIBE, §5.4.17
  {
    name: "UNSUBSCRIBE by topic name",
    says: "len 8, UNSUBSCRIBE, flags normal, msg id 6, topic name 'a/b'",
    hex: hx("08 14 00 0006 612f62"),
    message: { type: MsgType.Unsubscribe, topicIdType: TopicIdType.Normal, msgId: 6, topicName: "a/b", topicId: 0 },
  },
  {
    name: "UNSUBSCRIBE predefined topic id",
    says: "len 7, UNSUBSCRIBE, flags predefined, msg id 7, topic id 16",
    hex: hx("07 14 01 0007 0010"),
    message: { type: MsgType.Unsubscribe, topicIdType: TopicIdType.Predefined, msgId: 7, topicName: "", topicId: 16 },
  },
  {
    name: "UNSUBSCRIBE short topic name",
    says: "len 7, UNSUBSCRIBE, flags short, msg id 8, topic 'ab'",
    hex: hx("07 14 02 0008 6162"),
    message: { type: MsgType.Unsubscribe, topicIdType: TopicIdType.Short, msgId: 8, topicName: "", topicId: 0x6162 },
  },
  // UNSUBACK, §5.4.18
  {
    name: "UNSUBACK",
    says: "len 4, UNSUBACK, msg id 6",
    hex: hx("04 15 0006"),
    message: { type: MsgType.UnsubAck, msgId: 6 },
  },
  // PINGREQ, §5.4.19
  {
    name: "PINGREQ",
    says: "len 2, PINGREQ, no client id (keep-alive)",
    hex: hx("02 16"),
    message: { type: MsgType.PingReq, clientId: undefined },
  },
  {
    name: "PINGREQ with client id",
    says: "len 4, PINGREQ, client id 's1' (a sleeping client wakes, §6.14)",
    hex: hx("04 16 7331"),
    message: { type: MsgType.PingReq, clientId: "s1" },
  },
  // PINGRESP, §5.4.20
  {
    name: "PINGRESP",
    says: "len 2, PINGRESP",
    hex: hx("02 17"),
    message: { type: MsgType.PingResp },
  },
  // DISCONNECT, §5.4.21
  {
    name: "DISCONNECT",
    says: "len 2, DISCONNECT, no duration",
    hex: hx("02 18"),
    message: { type: MsgType.Disconnect, duration: undefined },
  },
  {
    name: "DISCONNECT with duration",
    says: "len 4, DISCONNECT, duration 3600 s (the client goes to sleep, §6.14)",
    hex: hx("04 18 0e10"),
    message: { type: MsgType.Disconnect, duration: 3600 },
  },
  // WILLTOPICUPD, §5.4.22
  {
    name: "WILLTOPICUPD with topic",
    says: "len 11, WILLTOPICUPD, flags qos1+Retain, will topic 'dev/will'",
    hex: hx("0b 1a 30" + utf8Hex("dev/will")),
    message: { type: MsgType.WillTopicUpd, qos: 1, retain: true, willTopic: "dev/will" },
  },
  {
    name: "WILLTOPICUPD empty (delete the will)",
    says: "len 2, WILLTOPICUPD, no flags and no topic: delete the will",
    hex: hx("02 1a"),
    message: { type: MsgType.WillTopicUpd, qos: 0, retain: false, willTopic: "" },
  },
  // WILLTOPICRESP, §5.4.23
  {
    name: "WILLTOPICRESP",
    says: "len 3, WILLTOPICRESP, return code accepted",
    hex: hx("03 1b 00"),
    message: { type: MsgType.WillTopicResp, returnCode: ReturnCode.Accepted },
  },
  // WILLMSGUPD, §5.4.24
  {
    name: "WILLMSGUPD",
    says: "len 5, WILLMSGUPD, will message 'bye'",
    hex: hx("05 1c 627965"),
    message: willMsg(MsgType.WillMsgUpd, "627965"),
  },
  // WILLMSGRESP, §5.4.25
  {
    name: "WILLMSGRESP",
    says: "len 3, WILLMSGRESP, return code not supported",
    hex: hx("03 1d 03"),
    message: { type: MsgType.WillMsgResp, returnCode: ReturnCode.NotSupported },
  },
  // Encapsulated, §5.5: Length covers the header only; the inner message carries its own Length.
  {
    name: "Encapsulated PUBLISH, radius 0",
    says: "len 5, Encapsulated, ctrl radius 0, node id 0a 0b; then len 8 PUBLISH qos0 topic id 5 msg id 0 data 01",
    hex: hx("05 fe 00 0a0b" + "08 0c 00 0005 0000 01"),
    message: {
      type: MsgType.Encapsulated,
      radius: 0,
      wirelessNodeId: [0x0a, 0x0b],
      message: publish({ qos: 0, topicIdType: TopicIdType.Normal }, 5, 0, "01"),
    },
  },
  {
    name: "Encapsulated CONNECT, radius 1, 8-octet node id",
    says: "len 11, Encapsulated, ctrl radius 1, node id 0013a20040a1b2c3 (an EUI-64); then len 8 CONNECT clean 's1'",
    hex: hx("0b fe 01 0013a20040a1b2c3" + "08 04 04 01 003c 7331"),
    message: {
      type: MsgType.Encapsulated,
      radius: 1,
      wirelessNodeId: [0x00, 0x13, 0xa2, 0x00, 0x40, 0xa1, 0xb2, 0xc3],
      message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "s1" },
    },
  },
  {
    name: "Encapsulated CONNECT, radius 0, empty node id",
    says: "len 3, Encapsulated, ctrl radius 0, no node id; then len 8 CONNECT will 's1'",
    hex: hx("03 fe 00" + "08 04 08 01 003c 7331"),
    message: {
      type: MsgType.Encapsulated,
      radius: 0,
      wirelessNodeId: [],
      message: { type: MsgType.Connect, will: true, cleanSession: false, duration: 60, clientId: "s1" },
    },
  },
  {
    name: "Encapsulated SEARCHGW, radius 3",
    says: "len 4, Encapsulated, ctrl radius 3 (broadcast), node id 2a; then len 3 SEARCHGW radius 3",
    hex: hx("04 fe 03 2a" + "03 01 03"),
    message: {
      type: MsgType.Encapsulated,
      radius: 3,
      wirelessNodeId: [0x2a],
      message: { type: MsgType.SearchGw, radius: 3 },
    },
  },
  {
    name: "Encapsulated PUBLISH with a 3-octet Length",
    says: "len 4, Encapsulated, ctrl radius 0, node id 07; then len 01 0135 PUBLISH qos1 topic id 7 msg id 9, 300 octets",
    hex: hx("04 fe 00 07" + "01 0135 0c 20 0007 0009" + countingHex(300)),
    message: {
      type: MsgType.Encapsulated,
      radius: 0,
      wirelessNodeId: [0x07],
      message: publish({ qos: 1, topicIdType: TopicIdType.Normal }, 7, 9, countingHex(300)),
    },
  },
];

const clientId = (n: number): string => "61".repeat(n);

/** Frames decode must reject, each with the code and the offset of the octet at fault. */
export const malformed: Malformed[] = [
  // Length field, §5.2.1
  { name: "empty input", hex: "", code: DecodeErrorCode.BadLength, offset: 0 },
  { name: "1-octet input", hex: hx("02"), code: DecodeErrorCode.BadLength, offset: 0 },
  { name: "Length 0x00", hex: hx("00 17"), code: DecodeErrorCode.BadLength, offset: 0 },
  { name: "3-octet Length cut after 0x01", hex: hx("01 17"), code: DecodeErrorCode.BadLength, offset: 0 },
  { name: "3-octet Length cut after its first octet", hex: hx("01 00 04"), code: DecodeErrorCode.BadLength, offset: 0 },
  { name: "3-octet Length below its own header", hex: hx("01 0003 17"), code: DecodeErrorCode.BadLength, offset: 1 },
  { name: "3-octet Length 0", hex: hx("01 0000 17"), code: DecodeErrorCode.BadLength, offset: 1 },
  { name: "truncated PUBLISH", hex: hx("09 0c 20 0005 0102 68"), code: DecodeErrorCode.Truncated, offset: 8 },
  {
    name: "truncated 3-octet PUBLISH",
    hex: hx("01 0135 0c 20 0007 0009 0001"),
    code: DecodeErrorCode.Truncated,
    offset: 11,
  },
  { name: "Length 255 on 2 octets", hex: hx("ff 17"), code: DecodeErrorCode.Truncated, offset: 2 },
  { name: "WILLTOPIC with QoS -1", hex: hx("04 07 60 77"), code: DecodeErrorCode.BadQos, offset: 2 },
  { name: "WILLTOPICUPD with QoS -1", hex: hx("04 1a 70 77"), code: DecodeErrorCode.BadQos, offset: 2 },
  { name: "trailing octet after PINGRESP", hex: hx("02 17 00"), code: DecodeErrorCode.TrailingBytes, offset: 2 },
  {
    name: "trailing octets after PUBLISH",
    hex: hx("08 0c 00 0005 0000 01 0203"),
    code: DecodeErrorCode.TrailingBytes,
    offset: 8,
  },
  // Body lengths of fixed-size and minimum-size messages, §5.4
  {
    name: "PUBLISH too short for topic id and msg id",
    hex: hx("06 0c 20 0005 01"),
    code: DecodeErrorCode.BadBodyLength,
    offset: 6,
  },
  { name: "PUBLISH flags only", hex: hx("03 0c 00"), code: DecodeErrorCode.BadBodyLength, offset: 3 },
  { name: "ADVERTISE too short", hex: hx("04 00 01 03"), code: DecodeErrorCode.BadBodyLength, offset: 4 },
  { name: "ADVERTISE too long", hex: hx("06 00 01 0384 00"), code: DecodeErrorCode.BadBodyLength, offset: 5 },
  { name: "SEARCHGW without radius", hex: hx("02 01"), code: DecodeErrorCode.BadBodyLength, offset: 2 },
  { name: "GWINFO without gw id", hex: hx("02 02"), code: DecodeErrorCode.BadBodyLength, offset: 2 },
  { name: "CONNACK without return code", hex: hx("02 05"), code: DecodeErrorCode.BadBodyLength, offset: 2 },
  { name: "CONNECT too short for duration", hex: hx("05 04 04 01 00"), code: DecodeErrorCode.BadBodyLength, offset: 5 },
  { name: "WILLTOPICREQ too long", hex: hx("03 06 00"), code: DecodeErrorCode.BadBodyLength, offset: 2 },
  { name: "REGISTER too short for msg id", hex: hx("05 0a 0000 01"), code: DecodeErrorCode.BadBodyLength, offset: 5 },
  { name: "REGACK too short", hex: hx("06 0b 0021 0001"), code: DecodeErrorCode.BadBodyLength, offset: 6 },
  { name: "PUBACK too short", hex: hx("06 0d 0005 0102"), code: DecodeErrorCode.BadBodyLength, offset: 6 },
  { name: "PUBACK too long", hex: hx("08 0d 0005 0102 00 00"), code: DecodeErrorCode.BadBodyLength, offset: 7 },
  { name: "PUBREL too short", hex: hx("03 10 01"), code: DecodeErrorCode.BadBodyLength, offset: 3 },
  { name: "PUBCOMP too long", hex: hx("05 0e 0102 03"), code: DecodeErrorCode.BadBodyLength, offset: 4 },
  { name: "SUBSCRIBE too short for msg id", hex: hx("04 12 20 00"), code: DecodeErrorCode.BadBodyLength, offset: 4 },
  {
    name: "SUBSCRIBE predefined with 1-octet topic id",
    hex: hx("06 12 21 0003 00"),
    code: DecodeErrorCode.BadBodyLength,
    offset: 5,
  },
  {
    name: "SUBSCRIBE short with 3-octet topic",
    hex: hx("08 12 22 0003 616263"),
    code: DecodeErrorCode.BadBodyLength,
    offset: 5,
  },
  {
    name: "UNSUBSCRIBE predefined without topic id",
    hex: hx("05 14 01 0007"),
    code: DecodeErrorCode.BadBodyLength,
    offset: 5,
  },
  { name: "SUBACK too short", hex: hx("07 13 20 0021 0001"), code: DecodeErrorCode.BadBodyLength, offset: 7 },
  { name: "UNSUBACK too long", hex: hx("05 15 0006 00"), code: DecodeErrorCode.BadBodyLength, offset: 4 },
  { name: "PINGRESP too long", hex: hx("03 17 00"), code: DecodeErrorCode.BadBodyLength, offset: 2 },
  { name: "DISCONNECT with a 1-octet duration", hex: hx("03 18 0e"), code: DecodeErrorCode.BadBodyLength, offset: 2 },
  {
    name: "DISCONNECT with a 3-octet duration",
    hex: hx("05 18 0e1000"),
    code: DecodeErrorCode.BadBodyLength,
    offset: 2,
  },
  { name: "WILLTOPICRESP too long", hex: hx("04 1b 00 00"), code: DecodeErrorCode.BadBodyLength, offset: 3 },
  { name: "Encapsulated without ctrl", hex: hx("02 fe 02 17"), code: DecodeErrorCode.BadBodyLength, offset: 2 },
  // Reserved message types, §5.2.2
  { name: "reserved type 0x03", hex: hx("02 03"), code: DecodeErrorCode.ReservedType, offset: 1 },
  { name: "reserved type 0x11", hex: hx("04 11 0001"), code: DecodeErrorCode.ReservedType, offset: 1 },
  { name: "reserved type 0x19", hex: hx("02 19"), code: DecodeErrorCode.ReservedType, offset: 1 },
  { name: "reserved type 0x1e", hex: hx("02 1e"), code: DecodeErrorCode.ReservedType, offset: 1 },
  { name: "reserved type 0x80", hex: hx("03 80 00"), code: DecodeErrorCode.ReservedType, offset: 1 },
  { name: "reserved type 0xfd", hex: hx("02 fd"), code: DecodeErrorCode.ReservedType, offset: 1 },
  { name: "reserved type 0xff", hex: hx("02 ff"), code: DecodeErrorCode.ReservedType, offset: 1 },
  {
    name: "reserved type 0x03 with a 3-octet Length",
    hex: hx("01 0004 03"),
    code: DecodeErrorCode.ReservedType,
    offset: 3,
  },
  // TopicIdType 0b11, §5.3.4
  {
    name: "PUBLISH reserved topic id type",
    hex: hx("08 0c 03 0005 0000 01"),
    code: DecodeErrorCode.ReservedTopicIdType,
    offset: 2,
  },
  {
    name: "SUBSCRIBE reserved topic id type",
    hex: hx("07 12 23 0001 0010"),
    code: DecodeErrorCode.ReservedTopicIdType,
    offset: 2,
  },
  {
    name: "UNSUBSCRIBE reserved topic id type",
    hex: hx("07 14 03 0001 0010"),
    code: DecodeErrorCode.ReservedTopicIdType,
    offset: 2,
  },
  // CONNECT, §5.4.4
  { name: "CONNECT protocol id 0x02", hex: hx("07 04 04 02 003c 61"), code: DecodeErrorCode.BadProtocolId, offset: 3 },
  { name: "CONNECT protocol id 0x00", hex: hx("07 04 04 00 003c 61"), code: DecodeErrorCode.BadProtocolId, offset: 3 },
  { name: "CONNECT empty client id", hex: hx("06 04 04 01 003c"), code: DecodeErrorCode.ClientIdLength, offset: 6 },
  {
    name: "CONNECT client id of 24 octets",
    hex: hx("1e 04 04 01 003c" + clientId(24)),
    code: DecodeErrorCode.ClientIdLength,
    offset: 6,
  },
  {
    name: "CONNECT client id of 12 two-octet characters (24 octets)",
    hex: hx("1e 04 04 01 003c" + "c3a4".repeat(12)),
    code: DecodeErrorCode.ClientIdLength,
    offset: 6,
  },
  {
    name: "CONNECT client id of 65 octets, limit 64",
    hex: hx("47 04 04 01 003c" + clientId(65)),
    code: DecodeErrorCode.ClientIdLength,
    offset: 6,
    maxClientIdLength: 64,
  },
  {
    name: "CONNECT client id of 3 octets, limit 2",
    hex: hx("09 04 04 01 003c 616263"),
    code: DecodeErrorCode.ClientIdLength,
    offset: 6,
    maxClientIdLength: 2,
  },
  {
    name: "PINGREQ client id of 24 octets",
    hex: hx("1a 16" + clientId(24)),
    code: DecodeErrorCode.ClientIdLength,
    offset: 2,
  },
  // Empty strings that must not be
  { name: "WILLTOPIC flags without a topic", hex: hx("03 07 20"), code: DecodeErrorCode.EmptyString, offset: 3 },
  { name: "WILLTOPICUPD flags without a topic", hex: hx("03 1a 00"), code: DecodeErrorCode.EmptyString, offset: 3 },
  { name: "REGISTER empty topic name", hex: hx("06 0a 0000 0001"), code: DecodeErrorCode.EmptyString, offset: 6 },
  { name: "SUBSCRIBE empty topic name", hex: hx("05 12 20 0001"), code: DecodeErrorCode.EmptyString, offset: 5 },
  { name: "UNSUBSCRIBE empty topic name", hex: hx("05 14 00 0001"), code: DecodeErrorCode.EmptyString, offset: 5 },
  // UTF-8, RFC 3629
  { name: "CONNECT overlong '/' (c0 af)", hex: hx("08 04 04 01 003c c0af"), code: DecodeErrorCode.BadUtf8, offset: 6 },
  {
    name: "CONNECT overlong 3-octet NUL (e0 80 80)",
    hex: hx("0a 04 04 01 003c 61 e08080"),
    code: DecodeErrorCode.BadUtf8,
    offset: 7,
  },
  {
    name: "CONNECT overlong 4-octet (f0 80 80 80)",
    hex: hx("0a 04 04 01 003c f0808080"),
    code: DecodeErrorCode.BadUtf8,
    offset: 6,
  },
  {
    name: "CONNECT UTF-16 surrogate (ed a0 80)",
    hex: hx("0a 04 04 01 003c 61 eda080"),
    code: DecodeErrorCode.BadUtf8,
    offset: 7,
  },
  {
    name: "CONNECT above U+10FFFF (f4 90 80 80)",
    hex: hx("0a 04 04 01 003c f4908080"),
    code: DecodeErrorCode.BadUtf8,
    offset: 6,
  },
  {
    name: "CONNECT sequence cut at the end (e2 82)",
    hex: hx("09 04 04 01 003c 61 e282"),
    code: DecodeErrorCode.BadUtf8,
    offset: 7,
  },
  {
    name: "CONNECT 4-octet sequence cut (f0 9f 8c)",
    hex: hx("09 04 04 01 003c f09f8c"),
    code: DecodeErrorCode.BadUtf8,
    offset: 6,
  },
  { name: "CONNECT octet 0xff", hex: hx("08 04 04 01 003c 61 ff"), code: DecodeErrorCode.BadUtf8, offset: 7 },
  { name: "CONNECT lone continuation octet", hex: hx("07 04 04 01 003c 80"), code: DecodeErrorCode.BadUtf8, offset: 6 },
  {
    name: "CONNECT lead octet then ASCII (c3 41)",
    hex: hx("08 04 04 01 003c c341"),
    code: DecodeErrorCode.BadUtf8,
    offset: 6,
  },
  { name: "REGISTER topic name with 0xfe", hex: hx("08 0a 0000 0001 61fe"), code: DecodeErrorCode.BadUtf8, offset: 7 },
  {
    name: "SUBSCRIBE topic name with surrogate",
    hex: hx("08 12 20 0001 eda080"),
    code: DecodeErrorCode.BadUtf8,
    offset: 5,
  },
  {
    name: "UNSUBSCRIBE topic name cut sequence",
    hex: hx("07 14 00 0001 61 c3"),
    code: DecodeErrorCode.BadUtf8,
    offset: 6,
  },
  { name: "WILLTOPIC topic with overlong", hex: hx("05 07 00 c180"), code: DecodeErrorCode.BadUtf8, offset: 3 },
  { name: "PINGREQ client id with 0xff", hex: hx("03 16 ff"), code: DecodeErrorCode.BadUtf8, offset: 2 },
  // Encapsulated, §5.5
  {
    name: "Encapsulated inside Encapsulated",
    hex: hx("03 fe 00" + "03 fe 00" + "02 17"),
    code: DecodeErrorCode.NestedEncapsulation,
    offset: 4,
  },
  {
    name: "Encapsulated with nothing after the header",
    hex: hx("04 fe 00 2a"),
    code: DecodeErrorCode.BadLength,
    offset: 4,
  },
  {
    name: "Encapsulated reserved inner type",
    hex: hx("04 fe 00 2a" + "02 03"),
    code: DecodeErrorCode.ReservedType,
    offset: 5,
  },
  {
    name: "Encapsulated truncated inner PUBLISH",
    hex: hx("03 fe 00" + "09 0c 20 0005 0102 68"),
    code: DecodeErrorCode.Truncated,
    offset: 11,
  },
  {
    name: "Encapsulated inner CONNECT bad protocol id",
    hex: hx("03 fe 00" + "07 04 04 02 003c 61"),
    code: DecodeErrorCode.BadProtocolId,
    offset: 6,
  },
  {
    name: "Encapsulated trailing octet after the inner message",
    hex: hx("03 fe 00" + "02 17 00"),
    code: DecodeErrorCode.TrailingBytes,
    offset: 5,
  },
  {
    name: "Encapsulated header Length beyond the datagram",
    hex: hx("09 fe 00 2a"),
    code: DecodeErrorCode.Truncated,
    offset: 4,
  },
  {
    name: "Encapsulated inner client id over the limit",
    hex: hx("03 fe 00" + "0a 04 04 01 003c 616263 00"),
    code: DecodeErrorCode.ClientIdLength,
    offset: 9,
    maxClientIdLength: 3,
  },
];
