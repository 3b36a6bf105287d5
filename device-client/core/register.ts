import { encode, MsgType, ReturnCode, type Bytes } from "../../protocol/index";
import type { ClientCore } from "./state";
import { findSlot, finish, flagsOffset, newMsgId, open, release, requestSlot, sendSlot, sendTx } from "./exchanges";
import { TopicEntry } from "./topic-table";
import { messageLength } from "./octets";

/** REGISTER and REGACK both ways (§6.5, §6.10), and the PUBLISHes that wait for their topic id. */

/** REGISTERs topicName for table entry t in slot r; report: done() is told of the REGACK. Returns the MsgId. */
export function sendRegister(c: ClientCore, r: number, topicName: string, t: number, report: boolean): number {
  const m = c.mRegister;
  m.topicId = 0;
  m.msgId = newMsgId(c);
  m.topicName = topicName;
  c.slotLength[r] = encode(m, c.slotBuf[r] as Bytes, 0);
  open(c, r, MsgType.Register, m.msgId, t, report ? 1 : 0);
  sendSlot(c, r);
  return m.msgId;
}

export function register(c: ClientCore, topicName: string): number {
  if (topicName === "") {
    return -1;
  }
  if (c.topics.findName(topicName) >= 0) {
    return 0;
  }
  // §5.4.10: TopicId (2), MsgId (2), TopicName.
  const r = requestSlot(c, messageLength(4, topicName));
  if (r < 0) {
    return -1;
  }
  const t = c.topics.insert(topicName, 0, TopicEntry.Registering);
  if (t < 0) {
    return -1;
  }
  return sendRegister(c, r, topicName, t, true);
}

function sendRegAck(c: ClientCore, topicId: number, msgId: number, returnCode: ReturnCode): void {
  c.mRegAck.topicId = topicId;
  c.mRegAck.msgId = msgId;
  c.mRegAck.returnCode = returnCode;
  sendTx(c, encode(c.mRegAck, c.tx, 0));
}

/** §6.10: the gateway names a topic id before publishing on it (wildcard subscriptions). */
export function onRegister(c: ClientCore, topicId: number, msgId: number, topicName: string): void {
  let t = c.topics.findName(topicName);
  if (t < 0) {
    t = c.topics.insert(topicName, topicId, TopicEntry.Registered);
  } else if (c.topics.states[t] === TopicEntry.Registered) {
    c.topics.ids[t] = topicId;
  }
  sendRegAck(c, topicId, msgId, t < 0 ? ReturnCode.Congestion : ReturnCode.Accepted);
}

export function onRegAck(c: ClientCore, topicId: number, msgId: number, returnCode: number): void {
  const r = findSlot(c, MsgType.Register, msgId);
  if (r < 0) {
    c.dropped++;
    return;
  }
  const t = c.slotTopic[r] as number;
  const report = c.slotQos[r] === 1;
  release(c, r);
  const accepted = returnCode === ReturnCode.Accepted;
  if (accepted) {
    c.topics.ids[t] = topicId;
    c.topics.states[t] = TopicEntry.Registered;
  }
  for (let p = 0; p < c.slots; p++) {
    if (c.slotType[p] === MsgType.Publish && c.slotWaiting[p] === 1 && c.slotTopic[p] === t) {
      if (!accepted) {
        finish(c, p, returnCode, 0);
      } else {
        const buf = c.slotBuf[p] as Bytes;
        const o = flagsOffset(buf) + 1;
        buf[o] = Math.floor(topicId / 256);
        buf[o + 1] = topicId % 256;
        c.slotWaiting[p] = 0;
        sendSlot(c, p);
        if (c.slotQos[p] === 0) {
          release(c, p);
        }
      }
    }
  }
  if (!accepted) {
    c.topics.free(t);
  }
  if (report) {
    c.handler.done(MsgType.Register, msgId, returnCode, topicId);
  }
}
