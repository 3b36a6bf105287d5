import type { TopicIdType } from "./constants";
import type { QoS } from "./messages";

/**
 * The flags octet, §5.3.4: DUP(7) QoS(6,5) Retain(4) Will(3) CleanSession(2) TopicIdType(1,0).
 * Written without bitwise operators so that it compiles to Lua 5.1.
 */
export function encodeFlags(
  dup: boolean,
  qos: QoS,
  retain: boolean,
  will: boolean,
  cleanSession: boolean,
  topicIdType: TopicIdType,
): number {
  const qosBits = qos === -1 ? 3 : qos;
  return (
    (dup ? 0x80 : 0) +
    qosBits * 0x20 +
    (retain ? 0x10 : 0) +
    (will ? 0x08 : 0) +
    (cleanSession ? 0x04 : 0) +
    topicIdType
  );
}

export function flagsQos(flags: number): QoS {
  const bits = Math.floor(flags / 0x20) % 4;
  return bits === 3 ? -1 : (bits as QoS);
}

export function flagsDup(flags: number): boolean {
  return flags >= 0x80;
}

export function flagsRetain(flags: number): boolean {
  return Math.floor(flags / 0x10) % 2 === 1;
}

export function flagsWill(flags: number): boolean {
  return Math.floor(flags / 0x08) % 2 === 1;
}

export function flagsCleanSession(flags: number): boolean {
  return Math.floor(flags / 0x04) % 2 === 1;
}

export function flagsTopicIdType(flags: number): number {
  return flags % 4;
}
