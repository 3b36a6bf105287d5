import { MsgType, type Bytes } from "../../protocol/index";
import type { ClientCore } from "./state";
import { ClientState } from "./types";

/** The in-flight slots (requests awaiting an answer), the transmit paths and the one place the state changes. */

/** The flags octet of a message encoded at offset 0: after a 1- or 3-octet Length and MsgType. */
export function flagsOffset(buf: Bytes): number {
  return buf[0] === 0x01 ? 4 : 2;
}

export function setState(c: ClientCore, state: ClientState): void {
  if (c.state !== state) {
    c.state = state;
    c.handler.stateChanged(state);
  }
}

export function sendTx(c: ClientCore, length: number): void {
  c.lastSent = c.now;
  c.transport.send(c.tx, length);
}

/**
 * Backpressure: true while the transport is busy (Transport.busy). Only a new application PUBLISH asks;
 * it is then refused, and tick() calls handler.ready() once this turns false. Everything else goes out
 * regardless: retransmissions, the QoS 2 flow, acknowledgements, CONNECT, PINGREQ, DISCONNECT, SEARCHGW
 * and the requests that take an in-flight slot, all bounded by the slots and the one control request.
 */
export function sendBusy(c: ClientCore): boolean {
  if (c.transport.busy !== undefined && c.transport.busy()) {
    c.sendWaiting = true;
    return true;
  }
  return false;
}

export function sendSlot(c: ClientCore, s: number): void {
  c.lastSent = c.now;
  c.transport.send(c.slotBuf[s] as Bytes, c.slotLength[s] as number);
}

export function open(c: ClientCore, s: number, type: number, msgId: number, t: number, qos: number): void {
  c.slotType[s] = type;
  c.slotMsgId[s] = msgId;
  c.slotTopic[s] = t;
  c.slotQos[s] = qos;
  c.slotRetries[s] = 0;
  c.slotWaiting[s] = 0;
  c.slotName[s] = "";
  c.slotDeadline[s] = c.now + c.options.retryInterval;
  if (t >= 0) {
    c.topics.pins[t] = (c.topics.pins[t] as number) + 1;
  }
}

export function release(c: ClientCore, s: number): void {
  const t = c.slotTopic[s] as number;
  if (t >= 0 && (c.topics.pins[t] as number) > 0) {
    c.topics.pins[t] = (c.topics.pins[t] as number) - 1;
  }
  c.slotType[s] = 0;
  c.slotTopic[s] = -1;
  c.slotName[s] = "";
}

/** Ends slot s (when it is open) and tells the application. PUBCOMP reports as its PUBLISH. */
export function finish(c: ClientCore, s: number, returnCode: number, topicId: number): void {
  if (s < 0) {
    c.dropped++;
    return;
  }
  const type = c.slotType[s] as number;
  const msgId = c.slotMsgId[s] as number;
  release(c, s);
  c.handler.done(type === MsgType.PubRel ? MsgType.Publish : type, msgId, returnCode, topicId);
}

export function clearQos2(c: ClientCore): void {
  for (let i = 0; i < c.qos2Ids.length; i++) {
    c.qos2Ids[i] = 0;
  }
}

export function failAll(c: ClientCore): void {
  for (let s = 0; s < c.slots; s++) {
    const type = c.slotType[s] as number;
    if (type !== 0) {
      const msgId = c.slotMsgId[s] as number;
      const silent = c.slotQos[s] === 0 && (type === MsgType.Register || type === MsgType.Publish);
      release(c, s);
      if (!silent) {
        c.handler.done(type === MsgType.PubRel ? MsgType.Publish : type, msgId, -1, 0);
      }
    }
  }
  c.topics.clear();
  clearQos2(c);
}

export function findSlot(c: ClientCore, type: number, msgId: number): number {
  for (let s = 0; s < c.slots; s++) {
    if (c.slotType[s] === type && c.slotMsgId[s] === msgId) {
      return s;
    }
  }
  return -1;
}

export function freeSlot(c: ClientCore): number {
  for (let s = 0; s < c.slots; s++) {
    if (c.slotType[s] === 0) {
      return s;
    }
  }
  return -1;
}

export function busySlots(c: ClientCore): number {
  let n = 0;
  for (let s = 0; s < c.slots; s++) {
    if (c.slotType[s] !== 0) {
      n++;
    }
  }
  return n;
}

/** A free slot for a request of `octets` octets while Active, or -1. */
export function requestSlot(c: ClientCore, octets: number): number {
  if (c.state !== ClientState.Active || octets > c.size) {
    return -1;
  }
  return freeSlot(c);
}

/** 1..65535, skipping ids still open (§5.3.9: MsgId 0 is not used by requests that await answers). */
export function newMsgId(c: ClientCore): number {
  for (;;) {
    c.nextId = c.nextId >= 65535 ? 1 : c.nextId + 1;
    let inUse = false;
    for (let s = 0; s < c.slots; s++) {
      if (c.slotType[s] !== 0 && c.slotMsgId[s] === c.nextId) {
        inUse = true;
      }
    }
    if (!inUse) {
      return c.nextId;
    }
  }
}

export function retransmit(c: ClientCore, s: number): void {
  const type = c.slotType[s];
  if (type === MsgType.Publish || type === MsgType.Subscribe) {
    // §6.13: a retransmitted PUBLISH or SUBSCRIBE carries DUP.
    const buf = c.slotBuf[s] as Bytes;
    const f = flagsOffset(buf);
    if ((buf[f] as number) < 0x80) {
      buf[f] = (buf[f] as number) + 0x80;
    }
  }
  c.slotRetries[s] = (c.slotRetries[s] as number) + 1;
  c.slotDeadline[s] = c.now + c.options.retryInterval;
  sendSlot(c, s);
}
