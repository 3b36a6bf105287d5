import { encode, MsgType, ReturnCode, type Bytes, type QoS } from "../../protocol/index";
import type { ClientCore } from "./state";
import { clearQos2, findSlot, finish, open, requestSlot, sendSlot, sendTx, setState } from "./exchanges";
import { lost, sendControl } from "./session";
import { ClientState } from "./types";
import { messageLength } from "./octets";

/** CONNECT, the will handshake (§6.3) and the will updates (§6.4). */

export function connectNow(c: ClientCore): void {
  c.sleepDuration = 0;
  setState(c, ClientState.Connecting);
  sendControl(c, MsgType.Connect);
}

/** §6.3: the will handshake answers WILLTOPICREQ and WILLMSGREQ; CONNECT's timer covers it all. */
export function onWillRequest(c: ClientCore, type: number): void {
  if (c.state !== ClientState.Connecting) {
    c.dropped++;
    return;
  }
  const o = c.options;
  let n: number;
  if (type === MsgType.WillTopicReq) {
    c.mWillTopic.type = MsgType.WillTopic;
    c.mWillTopic.willTopic = o.willTopic;
    c.mWillTopic.qos = o.willQos;
    c.mWillTopic.retain = o.willRetain;
    n = encode(c.mWillTopic, c.tx, 0);
  } else {
    c.mWillMsg.type = MsgType.WillMsg;
    c.mWillMsg.willMsg = o.willMessage;
    c.mWillMsg.willMsgOffset = 0;
    c.mWillMsg.willMsgLength = o.willMessageLength;
    n = encode(c.mWillMsg, c.tx, 0);
    c.mWillMsg.willMsg = c.tx;
  }
  c.controlDeadline = c.now + c.options.retryInterval;
  sendTx(c, n);
}

export function onConnAck(c: ClientCore, returnCode: number): void {
  if (c.state !== ClientState.Connecting) {
    c.dropped++;
    return;
  }
  c.controlType = 0;
  if (returnCode !== ReturnCode.Accepted) {
    // Congestion or refusal (§5.3.10): try again after reconnectDelay.
    lost(c);
    return;
  }
  c.topics.clear();
  clearQos2(c);
  setState(c, ClientState.Active);
}

export function updateWillTopic(c: ClientCore, willTopic: string, qos: QoS, retain: boolean): number {
  // §5.4.22: Flags (1), WillTopic.
  const s = requestSlot(c, messageLength(1, willTopic));
  if (s < 0) {
    return -1;
  }
  c.mWillTopic.type = MsgType.WillTopicUpd;
  c.mWillTopic.willTopic = willTopic;
  c.mWillTopic.qos = qos;
  c.mWillTopic.retain = retain;
  c.slotLength[s] = encode(c.mWillTopic, c.slotBuf[s] as Bytes, 0);
  open(c, s, MsgType.WillTopicUpd, 0, -1, 0);
  sendSlot(c, s);
  return 0;
}

export function updateWillMessage(c: ClientCore, data: Bytes, offset: number, length: number): number {
  const s = requestSlot(c, length + 4);
  if (s < 0) {
    return -1;
  }
  c.mWillMsg.type = MsgType.WillMsgUpd;
  c.mWillMsg.willMsg = data;
  c.mWillMsg.willMsgOffset = offset;
  c.mWillMsg.willMsgLength = length;
  c.slotLength[s] = encode(c.mWillMsg, c.slotBuf[s] as Bytes, 0);
  open(c, s, MsgType.WillMsgUpd, 0, -1, 0);
  c.mWillMsg.willMsg = c.tx;
  sendSlot(c, s);
  return 0;
}

/** WILLTOPICRESP or WILLMSGRESP: updateType names the request it answers. */
export function onWillResp(c: ClientCore, updateType: number, returnCode: number): void {
  finish(c, findSlot(c, updateType, 0), returnCode, 0);
}
