import { encode, MsgType, ReturnCode, TopicIdType, type Bytes, type Publish, type QoS } from "../../protocol/index";
import type { ClientCore } from "./state";
import { busySlots, findSlot, finish, freeSlot, newMsgId, open, sendBusy, sendSlot, sendTx } from "./exchanges";
import { sendRegister } from "./register";
import { TopicEntry } from "./topic-table";
import { ClientState, PublishResult } from "./types";
import { messageLength } from "./octets";

/** PUBLISH both ways with the QoS 0, 1, 2 and -1 flows (§6.7, §6.8); retransmission is in the slots' tick. */

function fillPublish(
  c: ClientCore,
  topicIdType: TopicIdType,
  topicId: number,
  msgId: number,
  data: Bytes,
  offset: number,
  length: number,
  qos: QoS,
  retain: boolean,
): void {
  const p = c.mPublish;
  p.dup = false;
  p.qos = qos;
  p.retain = retain;
  p.topicIdType = topicIdType;
  p.topicId = topicId;
  p.msgId = msgId;
  p.data = data;
  p.dataOffset = offset;
  p.dataLength = length;
}

function publishNow(
  c: ClientCore,
  topicIdType: TopicIdType,
  topicId: number,
  t: number,
  data: Bytes,
  offset: number,
  length: number,
  qos: QoS,
  retain: boolean,
): number {
  if (qos <= 0) {
    fillPublish(c, topicIdType, topicId, 0, data, offset, length, qos, retain);
    const n = encode(c.mPublish, c.tx, 0);
    c.mPublish.data = c.tx;
    sendTx(c, n);
    return 0;
  }
  const s = freeSlot(c);
  if (s < 0) {
    return -1;
  }
  const msgId = newMsgId(c);
  fillPublish(c, topicIdType, topicId, msgId, data, offset, length, qos, retain);
  c.slotLength[s] = encode(c.mPublish, c.slotBuf[s] as Bytes, 0);
  open(c, s, MsgType.Publish, msgId, t, qos);
  c.mPublish.data = c.tx;
  sendSlot(c, s);
  return msgId;
}

/** §6.10: a topic name without an id is REGISTERed first; the PUBLISH waits in its slot for the REGACK. */
export function publish(
  c: ClientCore,
  topicName: string,
  data: Bytes,
  offset: number,
  length: number,
  qos: QoS,
  retain: boolean,
): number {
  if (c.state !== ClientState.Active || qos === -1 || topicName === "" || length + 9 > c.size) {
    return -1;
  }
  if (sendBusy(c)) {
    return PublishResult.Busy;
  }
  let t = c.topics.findName(topicName);
  if (t >= 0 && c.topics.states[t] === TopicEntry.Registered) {
    return publishNow(c, TopicIdType.Normal, c.topics.ids[t] as number, t, data, offset, length, qos, retain);
  }
  const free = c.slots - busySlots(c);
  if (free < (t < 0 ? 2 : 1)) {
    return -1;
  }
  if (t < 0) {
    // The REGISTER (§5.4.10: TopicId, MsgId, TopicName) must fit a slot whole.
    if (messageLength(4, topicName) > c.size) {
      return -1;
    }
    t = c.topics.insert(topicName, 0, TopicEntry.Registering);
    if (t < 0) {
      return -1;
    }
    sendRegister(c, freeSlot(c), topicName, t, false);
  }
  const s = freeSlot(c);
  const msgId = qos > 0 ? newMsgId(c) : 0;
  fillPublish(c, TopicIdType.Normal, 0, msgId, data, offset, length, qos, retain);
  c.slotLength[s] = encode(c.mPublish, c.slotBuf[s] as Bytes, 0);
  c.mPublish.data = c.tx;
  open(c, s, MsgType.Publish, msgId, t, qos);
  c.slotWaiting[s] = 1;
  return msgId;
}

/** §3.3.2: a predefined id or short name needs no REGISTER; QoS -1 (§6.8) goes out in any state. */
export function publishId(
  c: ClientCore,
  topicIdType: TopicIdType,
  topicId: number,
  data: Bytes,
  offset: number,
  length: number,
  qos: QoS,
  retain: boolean,
): number {
  if (length + 9 > c.size || (qos !== -1 && c.state !== ClientState.Active)) {
    return -1;
  }
  if (qos === -1 && topicIdType === TopicIdType.Normal) {
    return -1;
  }
  if (sendBusy(c)) {
    return PublishResult.Busy;
  }
  return publishNow(c, topicIdType, topicId, -1, data, offset, length, qos, retain);
}

function sendPubAck(c: ClientCore, topicId: number, msgId: number, returnCode: ReturnCode): void {
  c.mPubAck.topicId = topicId;
  c.mPubAck.msgId = msgId;
  c.mPubAck.returnCode = returnCode;
  sendTx(c, encode(c.mPubAck, c.tx, 0));
}

function sendFlow(c: ClientCore, type: MsgType.PubRec | MsgType.PubRel | MsgType.PubComp, msgId: number): void {
  c.mFlow.type = type;
  c.mFlow.msgId = msgId;
  sendTx(c, encode(c.mFlow, c.tx, 0));
}

/** §6.7, §6.8: acknowledge first, then hand the message to the application. */
export function onPublish(c: ClientCore, m: Publish): void {
  let name = "";
  if (m.topicIdType === TopicIdType.Normal) {
    const t = c.topics.findId(m.topicId);
    if (t < 0) {
      // §6.7: an unknown topic id is answered with PUBACK "invalid topic id".
      sendPubAck(c, m.topicId, m.msgId, ReturnCode.InvalidTopicId);
      c.dropped++;
      return;
    }
    name = c.topics.names[t] as string;
  }
  if (m.qos === 1) {
    sendPubAck(c, m.topicId, m.msgId, ReturnCode.Accepted);
  } else if (m.qos === 2) {
    let free = -1;
    for (let i = 0; i < c.qos2Ids.length; i++) {
      if (c.qos2Ids[i] === m.msgId) {
        // §6.7: a duplicate QoS 2 PUBLISH is acknowledged again but delivered once.
        sendFlow(c, MsgType.PubRec, m.msgId);
        return;
      }
      if (free < 0 && c.qos2Ids[i] === 0) {
        free = i;
      }
    }
    if (free < 0) {
      // No room to remember the id: stay silent so that the gateway sends it again later.
      c.dropped++;
      return;
    }
    c.qos2Ids[free] = m.msgId;
    sendFlow(c, MsgType.PubRec, m.msgId);
  }
  c.handler.message(name, m.topicIdType, m.topicId, m.data, m.dataOffset, m.dataLength, m.qos, m.retain);
}

export function onPubAck(c: ClientCore, topicId: number, msgId: number, returnCode: number): void {
  const s = findSlot(c, MsgType.Publish, msgId);
  if (s < 0) {
    c.dropped++;
    return;
  }
  const t = c.slotTopic[s] as number;
  if (returnCode === ReturnCode.InvalidTopicId && t >= 0) {
    // §6.7: the gateway no longer knows the id: forget it, the next publish registers again.
    c.topics.pins[t] = (c.topics.pins[t] as number) - 1;
    c.slotTopic[s] = -1;
    if (c.topics.pins[t] === 0) {
      c.topics.free(t);
    }
  }
  finish(c, s, returnCode, topicId);
}

export function onPubRec(c: ClientCore, msgId: number): void {
  let s = findSlot(c, MsgType.Publish, msgId);
  if (s < 0) {
    s = findSlot(c, MsgType.PubRel, msgId);
  }
  if (s < 0 || c.slotQos[s] !== 2) {
    c.dropped++;
    return;
  }
  c.mFlow.type = MsgType.PubRel;
  c.mFlow.msgId = msgId;
  c.slotType[s] = MsgType.PubRel;
  c.slotRetries[s] = 0;
  c.slotDeadline[s] = c.now + c.options.retryInterval;
  c.slotLength[s] = encode(c.mFlow, c.slotBuf[s] as Bytes, 0);
  sendSlot(c, s);
}

export function onPubRel(c: ClientCore, msgId: number): void {
  for (let i = 0; i < c.qos2Ids.length; i++) {
    if (c.qos2Ids[i] === msgId) {
      c.qos2Ids[i] = 0;
    }
  }
  sendFlow(c, MsgType.PubComp, msgId);
}

export function onPubComp(c: ClientCore, msgId: number): void {
  finish(c, findSlot(c, MsgType.PubRel, msgId), ReturnCode.Accepted, -1);
}
