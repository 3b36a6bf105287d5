import type { MsgType, ReturnCode, TopicIdType } from "./constants";

/**
 * A byte sequence. JavaScript callers pass a Uint8Array or Buffer as it is; Lua gets a 1-based table.
 * Only indexing and the length given alongside are used, so no copy is made per datagram.
 */
export type Bytes = number[];

/** QoS as carried in the flags, §5.3.4: -1 is "publish without a connection" (§6.8). */
export type QoS = -1 | 0 | 1 | 2;

export interface Advertise {
  type: MsgType.Advertise;
  gwId: number;
  /** Seconds until the next ADVERTISE. */
  duration: number;
}

export interface SearchGw {
  type: MsgType.SearchGw;
  radius: number;
}

export interface GwInfo {
  type: MsgType.GwInfo;
  gwId: number;
  /** Present (non-empty) only when a client answers on a gateway's behalf, §5.4.3. */
  gwAdd: Bytes;
}

export interface Connect {
  type: MsgType.Connect;
  will: boolean;
  cleanSession: boolean;
  /** Keep-alive in seconds. */
  duration: number;
  clientId: string;
}

export interface ConnAck {
  type: MsgType.ConnAck;
  returnCode: ReturnCode;
}

export interface WillTopicReq {
  type: MsgType.WillTopicReq;
}

export interface WillMsgReq {
  type: MsgType.WillMsgReq;
}

/** An empty willTopic is the two-octet form: no will (WILLTOPIC) or delete the will (WILLTOPICUPD). */
export interface WillTopic {
  type: MsgType.WillTopic | MsgType.WillTopicUpd;
  qos: QoS;
  retain: boolean;
  willTopic: string;
}

/** The will message is the slice willMsg[willMsgOffset .. willMsgOffset + willMsgLength). */
export interface WillMsg {
  type: MsgType.WillMsg | MsgType.WillMsgUpd;
  willMsg: Bytes;
  willMsgOffset: number;
  willMsgLength: number;
}

export interface Register {
  type: MsgType.Register;
  topicId: number;
  msgId: number;
  topicName: string;
}

export interface RegAck {
  type: MsgType.RegAck;
  topicId: number;
  msgId: number;
  returnCode: ReturnCode;
}

/**
 * The payload is the slice data[dataOffset .. dataOffset + dataLength): decode points into the
 * datagram instead of copying. For a short topic name, topicId holds its two octets.
 */
export interface Publish {
  type: MsgType.Publish;
  dup: boolean;
  qos: QoS;
  retain: boolean;
  topicIdType: TopicIdType;
  topicId: number;
  msgId: number;
  data: Bytes;
  dataOffset: number;
  dataLength: number;
}

export interface PubAck {
  type: MsgType.PubAck;
  topicId: number;
  msgId: number;
  returnCode: ReturnCode;
}

/** PUBREC, PUBREL and PUBCOMP carry only a message id. */
export interface PubFlow {
  type: MsgType.PubRec | MsgType.PubRel | MsgType.PubComp;
  msgId: number;
}

/**
 * topicName is used when topicIdType is Normal (a name or a filter with wildcards);
 * topicId otherwise (a predefined id, or the two octets of a short name).
 */
export interface Subscribe {
  type: MsgType.Subscribe;
  dup: boolean;
  qos: QoS;
  topicIdType: TopicIdType;
  msgId: number;
  topicName: string;
  topicId: number;
}

export interface SubAck {
  type: MsgType.SubAck;
  qos: QoS;
  topicId: number;
  msgId: number;
  returnCode: ReturnCode;
}

/** The same topic rules as Subscribe. */
export interface Unsubscribe {
  type: MsgType.Unsubscribe;
  topicIdType: TopicIdType;
  msgId: number;
  topicName: string;
  topicId: number;
}

export interface UnsubAck {
  type: MsgType.UnsubAck;
  msgId: number;
}

/** clientId is present only when a sleeping client wakes, §6.14. */
export interface PingReq {
  type: MsgType.PingReq;
  clientId: string | undefined;
}

export interface PingResp {
  type: MsgType.PingResp;
}

/** duration (seconds) is present only when a client goes to sleep, §6.14. */
export interface Disconnect {
  type: MsgType.Disconnect;
  duration: number | undefined;
}

export interface WillResp {
  type: MsgType.WillTopicResp | MsgType.WillMsgResp;
  returnCode: ReturnCode;
}

/** Forwarder encapsulation, §5.5: the header, then a whole MQTT-SN message. */
export interface Encapsulated {
  type: MsgType.Encapsulated;
  /** Ctrl bits 1..0: the broadcast radius, 0 when the message is not a broadcast. */
  radius: number;
  wirelessNodeId: Bytes;
  message: Message;
}

export type Message =
  | Advertise
  | SearchGw
  | GwInfo
  | Connect
  | ConnAck
  | WillTopicReq
  | WillMsgReq
  | WillTopic
  | WillMsg
  | Register
  | RegAck
  | Publish
  | PubAck
  | PubFlow
  | Subscribe
  | SubAck
  | Unsubscribe
  | UnsubAck
  | PingReq
  | PingResp
  | Disconnect
  | WillResp
  | Encapsulated;
