import { encode, MsgType, ReturnCode, TopicIdType, type Bytes, type QoS } from "../../protocol/index";
import type { ClientCore } from "./state";
import { findSlot, finish, newMsgId, open, requestSlot, sendSlot } from "./exchanges";
import { TopicEntry } from "./topic-table";
import { messageLength } from "./octets";

/** SUBSCRIBE and UNSUBSCRIBE (§6.9) by topic name or filter, predefined id or short name. */

/** The caller has set mSubscribe's topicName and topicId; name is kept to take the id SUBACK returns. */
function subscribeNow(c: ClientCore, topicIdType: TopicIdType, qos: QoS, name: string): number {
  // §5.4.15: Flags (1), MsgId (2), then the topic name, or a 2-octet topic id (name is "").
  const s = requestSlot(c, messageLength(topicIdType === TopicIdType.Normal ? 3 : 5, name));
  if (s < 0 || qos === -1) {
    return -1;
  }
  const m = c.mSubscribe;
  m.dup = false;
  m.qos = qos;
  m.topicIdType = topicIdType;
  m.msgId = newMsgId(c);
  c.slotLength[s] = encode(m, c.slotBuf[s] as Bytes, 0);
  open(c, s, MsgType.Subscribe, m.msgId, -1, qos);
  c.slotName[s] = name;
  sendSlot(c, s);
  return m.msgId;
}

function unsubscribeNow(c: ClientCore, topicIdType: TopicIdType, name: string): number {
  // §5.4.17: as SUBSCRIBE.
  const s = requestSlot(c, messageLength(topicIdType === TopicIdType.Normal ? 3 : 5, name));
  if (s < 0) {
    return -1;
  }
  const m = c.mUnsubscribe;
  m.topicIdType = topicIdType;
  m.msgId = newMsgId(c);
  c.slotLength[s] = encode(m, c.slotBuf[s] as Bytes, 0);
  open(c, s, MsgType.Unsubscribe, m.msgId, -1, 0);
  sendSlot(c, s);
  return m.msgId;
}

export function subscribe(c: ClientCore, topicName: string, qos: QoS): number {
  c.mSubscribe.topicName = topicName;
  c.mSubscribe.topicId = 0;
  return subscribeNow(c, TopicIdType.Normal, qos, topicName);
}

export function subscribeId(c: ClientCore, topicIdType: TopicIdType, topicId: number, qos: QoS): number {
  c.mSubscribe.topicName = "";
  c.mSubscribe.topicId = topicId;
  return subscribeNow(c, topicIdType, qos, "");
}

export function unsubscribe(c: ClientCore, topicName: string): number {
  c.mUnsubscribe.topicName = topicName;
  c.mUnsubscribe.topicId = 0;
  return unsubscribeNow(c, TopicIdType.Normal, topicName);
}

export function unsubscribeId(c: ClientCore, topicIdType: TopicIdType, topicId: number): number {
  c.mUnsubscribe.topicName = "";
  c.mUnsubscribe.topicId = topicId;
  return unsubscribeNow(c, topicIdType, "");
}

export function onSubAck(c: ClientCore, topicId: number, msgId: number, returnCode: number): void {
  const s = findSlot(c, MsgType.Subscribe, msgId);
  if (s < 0) {
    c.dropped++;
    return;
  }
  const name = c.slotName[s] as string;
  if (returnCode === ReturnCode.Accepted && name !== "" && topicId !== 0 && c.topics.findName(name) < 0) {
    // §6.9: a name without wildcards comes back with its topic id; keep it for incoming PUBLISH.
    c.topics.insert(name, topicId, TopicEntry.Registered);
  }
  finish(c, s, returnCode, topicId);
}

export function onUnsubAck(c: ClientCore, msgId: number): void {
  finish(c, findSlot(c, MsgType.Unsubscribe, msgId), ReturnCode.Accepted, 0);
}
