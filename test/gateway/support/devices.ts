import { MsgType, ReturnCode, type Message } from "../../../protocol";

/**
 * An MQTT-SN device as the model test plays it: it lives at one address of the memory link, hears what
 * the gateway sends there, and answers only when a command tells it to (so "not answering" is a choice
 * the test can make). Every broker message carries its own key ("clientId|m12") as payload, so the
 * device knows which message it got and for whom it was meant.
 */
export interface Device {
  clientId: string;
  address: string;
  /** Messages from the gateway that call for an answer (PUBLISH QoS 1/2, PUBREL, REGISTER), oldest first. */
  inbox: Message[];
  /** WILLTOPICREQ / WILLMSGREQ heard since the last CONNECT. */
  prompts: MsgType[];
  /** Key → copies received (any QoS), DUP retransmissions included. */
  received: Map<string, number>;
  /** Key → copies received with DUP clear: what the application sees more than once. */
  fresh: Map<string, number>;
  /** The last frames heard, newest last, for failure reports. */
  recent: string[];
  nextMsgId: number;
  willVersion: number;
}

const utf8 = new TextDecoder();

export function newDevice(clientId: string, address: string): Device {
  return {
    clientId,
    address,
    inbox: [],
    prompts: [],
    received: new Map(),
    fresh: new Map(),
    recent: [],
    nextMsgId: 1,
    willVersion: 0,
  };
}

/** The key a broker message carried (its payload). */
export function payloadKey(m: Message & { type: MsgType.Publish }): string {
  const bytes = new Uint8Array(m.dataLength);
  for (let i = 0; i < m.dataLength; i++) bytes[i] = m.data[m.dataOffset + i] as number;
  return utf8.decode(bytes);
}

function describe(m: Message): string {
  switch (m.type) {
    case MsgType.Publish:
      return `PUBLISH q${m.qos}${m.dup ? " dup" : ""} id${m.msgId} ${payloadKey(m)}`;
    case MsgType.Register:
      return `REGISTER id${m.msgId} ${m.topicName}`;
    case MsgType.PubRel:
      return `PUBREL id${m.msgId}`;
    case MsgType.ConnAck:
      return `CONNACK ${m.returnCode}`;
    case MsgType.Disconnect:
      return "DISCONNECT";
    default:
      return `type 0x${m.type.toString(16)}`;
  }
}

/**
 * The device hears a message. Returns the client id a PUBLISH was meant for when it was not this
 * device (a message delivered to the wrong client), otherwise undefined.
 */
export function hear(d: Device, m: Message): string | undefined {
  d.recent.push(describe(m));
  if (d.recent.length > 12) d.recent.shift();
  switch (m.type) {
    case MsgType.Publish: {
      const key = payloadKey(m);
      const owner = key.slice(0, key.indexOf("|"));
      if (owner !== d.clientId) return owner;
      d.received.set(key, (d.received.get(key) ?? 0) + 1);
      if (!m.dup) d.fresh.set(key, (d.fresh.get(key) ?? 0) + 1);
      if (m.qos > 0) d.inbox.push(m);
      return undefined;
    }
    case MsgType.PubRel:
    case MsgType.Register:
      d.inbox.push(m);
      return undefined;
    case MsgType.WillTopicReq:
    case MsgType.WillMsgReq:
      d.prompts.push(m.type);
      return undefined;
    default:
      return undefined;
  }
}

/** What the device answers to a message from its inbox: PUBACK, PUBREC, PUBCOMP or REGACK, always accepting. */
export function answerTo(m: Message): Message | undefined {
  switch (m.type) {
    case MsgType.Publish:
      return m.qos === 1
        ? { type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted }
        : { type: MsgType.PubRec, msgId: m.msgId };
    case MsgType.PubRel:
      return { type: MsgType.PubComp, msgId: m.msgId };
    case MsgType.Register:
      return { type: MsgType.RegAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted };
    default:
      return undefined;
  }
}
