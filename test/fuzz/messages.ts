import { MsgType, type Bytes, type Message, type QoS } from "../../protocol";
import type { Prng } from "./prng";

/** What the fuzzer knows of the gateway it talks to: its sources, client ids and predefined topics. */
export interface FuzzWorld {
  /** Number of source sockets; a flow names its sender by index. */
  sources: number;
  /** Client ids the flows share, so the same id turns up from several addresses. */
  clientIds: readonly string[];
  /** Topic ids the gateway is configured with for every client (predefinedTopics.global), §2.3. */
  predefinedIds: readonly number[];
}

/** Topic names a client may REGISTER or publish to; some the broker refuses ($SYS, wildcards). */
const TOPIC_NAMES = [
  "fuzz/a",
  "fuzz/b/c",
  "fuzz/predefined/1",
  "fuzz/sleep",
  "fuzz/ünïcødé/✓",
  "fuzz/" + "x".repeat(180),
  "$SYS/fuzz",
  "fuzz/+",
  "fuzz/#",
  "/",
  "fuzz//empty-level",
];

/** Filters for SUBSCRIBE / UNSUBSCRIBE, §5.4.15: plain names, wildcards, and filters the broker rejects. */
const TOPIC_FILTERS = ["fuzz/#", "fuzz/+", "fuzz/+/c", "#", "+/+", "fuzz/a", "fuzz/sleep", "a/#/b", "fuzz/x+", "+"];

/** Short topic names, §3.3: exactly two characters carried in the TopicId field. */
const SHORT_NAMES = ["fz", "ab", "+#", "#/", "zz"];

/** Message ids and topic ids the gateway hands out first (both count up from 1). */
const REAL_ID_MAX = 24;

/** A 16-bit id: usually a small one the gateway has really used, sometimes anything, sometimes 0 or 0xffff. */
export function anyId(rng: Prng): number {
  return rng.weighted<() => number>([
    [6, () => rng.range(1, REAL_ID_MAX)],
    [2, () => rng.int(0x10000)],
    [1, () => 0],
    [1, () => 0xffff],
  ])();
}

export function topicName(rng: Prng, clientId: string): string {
  return rng.chance(0.2) ? `fuzz/${clientId}/data` : rng.pick(TOPIC_NAMES);
}

export function topicFilter(rng: Prng): string {
  return rng.pick(TOPIC_FILTERS);
}

export function shortTopic(rng: Prng): number {
  if (rng.chance(0.2)) return rng.int(0x10000);
  const name = rng.pick(SHORT_NAMES);
  return name.charCodeAt(0) * 256 + name.charCodeAt(1);
}

export function predefinedId(rng: Prng, world: FuzzWorld): number {
  return rng.chance(0.7) && world.predefinedIds.length > 0 ? rng.pick(world.predefinedIds) : anyId(rng);
}

/** A payload: mostly small, sometimes past 255 octets (3-octet Length) or past the gateway's maxMessageSize. */
export function payload(rng: Prng): Uint8Array {
  const length = rng.weighted<() => number>([
    [8, () => rng.int(24)],
    [1, () => rng.range(250, 300)],
    [1, () => rng.range(1200, 1300)],
  ])();
  return rng.bytes(length);
}

/** Keep-alive or sleep durations in seconds: short ones so sessions expire during the run, and extremes. */
export function duration(rng: Prng): number {
  return rng.pick([0, 1, 1, 2, 3, 5, 10, 60, 65535]);
}

export function qos(rng: Prng): QoS {
  return rng.pick<QoS>([-1, 0, 1, 2]);
}

function bytes(data: Uint8Array): Bytes {
  return data as unknown as Bytes;
}

export const build = {
  connect(clientId: string, will: boolean, cleanSession: boolean, keepAlive: number): Message {
    return { type: MsgType.Connect, will, cleanSession, duration: keepAlive, clientId };
  },
  willTopic(rng: Prng, type: MsgType.WillTopic | MsgType.WillTopicUpd, clientId: string, empty: boolean): Message {
    return {
      type,
      qos: rng.pick<QoS>([0, 1, 2]),
      retain: rng.chance(0.3),
      willTopic: empty ? "" : topicName(rng, clientId),
    };
  },
  willMsg(rng: Prng, type: MsgType.WillMsg | MsgType.WillMsgUpd): Message {
    const data = payload(rng);
    return { type, willMsg: bytes(data), willMsgOffset: 0, willMsgLength: data.length };
  },
  register(rng: Prng, clientId: string, msgId: number): Message {
    return {
      type: MsgType.Register,
      topicId: rng.chance(0.9) ? 0 : anyId(rng),
      msgId,
      topicName: topicName(rng, clientId),
    };
  },
  /** PUBLISH at the given QoS with a topic of the given TopicIdType (§5.3.4), or a random one. */
  publish(rng: Prng, world: FuzzWorld, q: QoS, topicIdType: 0 | 1 | 2, msgId: number): Message {
    const data = payload(rng);
    const topicId = topicIdType === 0 ? anyId(rng) : topicIdType === 1 ? predefinedId(rng, world) : shortTopic(rng);
    return {
      type: MsgType.Publish,
      dup: rng.chance(0.1),
      qos: q,
      retain: rng.chance(0.1),
      topicIdType,
      topicId,
      msgId: q > 0 || rng.chance(0.1) ? msgId : 0,
      data: bytes(data),
      dataOffset: 0,
      dataLength: data.length,
    };
  },
  subscribe(rng: Prng, world: FuzzWorld, msgId: number, unsubscribe: boolean): Message {
    const topicIdType = rng.pick<0 | 1 | 2>([0, 0, 0, 1, 2]);
    const topicId = topicIdType === 1 ? predefinedId(rng, world) : topicIdType === 2 ? shortTopic(rng) : 0;
    const topic = topicFilter(rng);
    if (unsubscribe) return { type: MsgType.Unsubscribe, topicIdType, msgId, topicName: topic, topicId };
    return {
      type: MsgType.Subscribe,
      dup: rng.chance(0.1),
      qos: qos(rng),
      topicIdType,
      msgId,
      topicName: topic,
      topicId,
    };
  },
  /** PUBACK, PUBREC, PUBREL, PUBCOMP or REGACK for an id the gateway used, or any id. */
  ack(rng: Prng, msgId: number): Message {
    const kind = rng.pick([MsgType.PubAck, MsgType.PubRec, MsgType.PubRel, MsgType.PubComp, MsgType.RegAck] as const);
    if (kind === MsgType.PubAck || kind === MsgType.RegAck)
      return { type: kind, topicId: anyId(rng), msgId, returnCode: rng.pick<number>([0, 0, 0, 1, 2, 3, 0xff]) };
    return { type: kind, msgId };
  },
  pingReq(clientId: string | undefined): Message {
    return { type: MsgType.PingReq, clientId };
  },
  disconnect(sleepFor: number | undefined): Message {
    return { type: MsgType.Disconnect, duration: sleepFor };
  },
  searchGw(rng: Prng): Message {
    return { type: MsgType.SearchGw, radius: rng.int(256) };
  },
  /** A message only a gateway sends (or a client answering for one), §5.2.2: the gateway must not trip on it. */
  gatewayOnly(rng: Prng): Message {
    const rc = rng.pick([0, 1, 2, 3, 0xff]);
    return rng.pick<() => Message>([
      () => ({ type: MsgType.Advertise, gwId: rng.int(256), duration: rng.int(0x10000) }),
      () => ({ type: MsgType.GwInfo, gwId: rng.int(256), gwAdd: bytes(rng.bytes(rng.int(8))) }),
      () => ({ type: MsgType.ConnAck, returnCode: rc }),
      () => ({ type: MsgType.WillTopicReq }),
      () => ({ type: MsgType.WillMsgReq }),
      () => ({ type: MsgType.SubAck, qos: qos(rng), topicId: anyId(rng), msgId: anyId(rng), returnCode: rc }),
      () => ({ type: MsgType.UnsubAck, msgId: anyId(rng) }),
      () => ({ type: MsgType.PingResp }),
      () => ({ type: MsgType.WillTopicResp, returnCode: rc }),
      () => ({ type: MsgType.WillMsgResp, returnCode: rc }),
    ])();
  },
};
