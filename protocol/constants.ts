/** Message types, MQTT-SN v1.2 §5.2.2. Values not listed here are reserved. */
export const enum MsgType {
  Advertise = 0x00,
  SearchGw = 0x01,
  GwInfo = 0x02,
  Connect = 0x04,
  ConnAck = 0x05,
  WillTopicReq = 0x06,
  WillTopic = 0x07,
  WillMsgReq = 0x08,
  WillMsg = 0x09,
  Register = 0x0a,
  RegAck = 0x0b,
  Publish = 0x0c,
  PubAck = 0x0d,
  PubComp = 0x0e,
  PubRec = 0x0f,
  PubRel = 0x10,
  Subscribe = 0x12,
  SubAck = 0x13,
  Unsubscribe = 0x14,
  UnsubAck = 0x15,
  PingReq = 0x16,
  PingResp = 0x17,
  Disconnect = 0x18,
  WillTopicUpd = 0x1a,
  WillTopicResp = 0x1b,
  WillMsgUpd = 0x1c,
  WillMsgResp = 0x1d,
  Encapsulated = 0xfe,
}

/** Return codes, §5.3.10. */
export const enum ReturnCode {
  Accepted = 0x00,
  Congestion = 0x01,
  InvalidTopicId = 0x02,
  NotSupported = 0x03,
}

/** TopicIdType, flags bits 1..0, §5.3.4. The value 3 is reserved. */
export const enum TopicIdType {
  Normal = 0,
  Predefined = 1,
  Short = 2,
}

/** ProtocolId of CONNECT, §5.3.7: the only defined value. */
export const PROTOCOL_ID = 0x01;

/** §5.3.6: "ClientId ... 1-23 characters". Deployments may raise it through DecodeOptions. */
export const SPEC_MAX_CLIENT_ID_LENGTH = 23;

/** Largest message the 3-octet Length form can express, §5.2.1. */
export const MAX_MESSAGE_LENGTH = 65535;
