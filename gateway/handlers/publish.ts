import { MsgType, ReturnCode, TopicIdType, type PubAck, type PubFlow, type Publish } from "../../protocol";
import { delivered } from "../session/custody";
import { refusesPublish } from "../admission/access-refusals";
import { refusesTopicName } from "../admission/topic-names";
import { completeInFlight } from "../session/outbound";
import type { Effect, Session, SessionContext } from "../session/types";

/** The topic name a client PUBLISH refers to: registered id, predefined id or short name (§3.3.2). */
export function publishTopic(s: Session, m: Publish): string | undefined {
  switch (m.topicIdType) {
    case TopicIdType.Normal:
      return s.topics.nameOf(m.topicId);
    case TopicIdType.Predefined:
      return s.topics.predefinedNameOf(m.topicId);
    case TopicIdType.Short:
      return String.fromCharCode(Math.floor(m.topicId / 256), m.topicId % 256);
    default:
      return undefined;
  }
}

function payloadOf(m: Publish): Uint8Array {
  const data = m.data as unknown as Uint8Array;
  return data.subarray(m.dataOffset, m.dataOffset + m.dataLength);
}

/**
 * §6.6 / §6.8 client → gateway PUBLISH. QoS 1 is acknowledged (PUBACK) once the broker acknowledged it;
 * QoS 2 is forwarded once and answered PUBREC once the broker holds it; a DUP of a message already
 * forwarded is answered, never forwarded again (exactly once across both legs).
 */
export function handleClientPublish(s: Session, m: Publish, ctx: SessionContext, out: Effect[]): void {
  const topic = publishTopic(s, m);
  if (topic === undefined) {
    // §6.6: unknown topic id → PUBACK "invalid topic id"; the client registers again.
    out.push({
      kind: "send",
      message: { type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.InvalidTopicId },
    });
    return;
  }
  const fields = { clientId: s.clientId, message: "PUBLISH", qos: m.qos };
  if (
    refusesTopicName(topic, ctx.counters, ctx.log, fields) ||
    refusesPublish(s.access, topic, ctx.counters, ctx.log, fields)
  ) {
    // MQTT 3.1.1 §4.7.1: nothing is published to a name with '+' or '#', nor outside the client's access entry;
    // §6.6 PUBACK "not supported", QoS 0 and -1 dropped (counted by the refusal).
    if (m.qos > 0)
      out.push({
        kind: "send",
        message: { type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.NotSupported },
      });
    return;
  }
  if (m.qos <= 0) {
    out.push({ kind: "upPublish", topic, payload: payloadOf(m), qos: 0, retain: m.retain, msgId: 0 });
    return;
  }
  if (m.qos === 2 && s.qos2Received.has(m.msgId)) {
    out.push({ kind: "send", message: { type: MsgType.PubRec, msgId: m.msgId } });
    return;
  }
  if (s.upstreamPending.has(m.msgId)) return; // a DUP while the broker has not answered: its answer will come
  if (s.upstreamPending.size + s.qos2Received.size >= ctx.maxInflight) {
    ctx.counters.congestionRefusals++;
    ctx.log.warn("limit-hit", { clientId: s.clientId, limit: "limits.maxInflight", value: ctx.maxInflight });
    out.push({
      kind: "send",
      message: { type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Congestion },
    });
    return;
  }
  s.upstreamPending.set(m.msgId, m.qos * 0x10000 + m.topicId);
  out.push({
    kind: "upPublish",
    topic,
    payload: payloadOf(m),
    qos: m.qos === 2 ? 2 : 1,
    retain: m.retain,
    msgId: m.msgId,
  });
}

/** The broker acknowledged (or failed) a forwarded QoS 1/2 PUBLISH. */
export function handleUpPublished(s: Session, msgId: number, ok: boolean, ctx: SessionContext, out: Effect[]): void {
  const entry = s.upstreamPending.get(msgId);
  if (entry === undefined) return;
  s.upstreamPending.delete(msgId);
  const qos = Math.floor(entry / 0x10000);
  const topicId = entry % 0x10000;
  if (!ok) {
    ctx.log.warn("upstream-publish-failed", { clientId: s.clientId, msgId });
    out.push({ kind: "send", message: { type: MsgType.PubAck, topicId, msgId, returnCode: ReturnCode.Congestion } });
    return;
  }
  if (qos === 1) {
    out.push({ kind: "send", message: { type: MsgType.PubAck, topicId, msgId, returnCode: ReturnCode.Accepted } });
  } else {
    s.qos2Received.add(msgId);
    out.push({ kind: "send", message: { type: MsgType.PubRec, msgId } });
  }
}

/** §6.8: PUBREL → PUBCOMP (also for an unknown id: the PUBCOMP was lost and the client resent PUBREL). */
export function handlePubRel(s: Session, m: PubFlow, _ctx: SessionContext, out: Effect[]): void {
  s.qos2Received.delete(m.msgId);
  out.push({ kind: "send", message: { type: MsgType.PubComp, msgId: m.msgId } });
}

/** Gateway → client QoS 1 answered. rc 0x02: the client lost the id; register once more, then give up. */
export function handlePubAck(s: Session, m: PubAck, now: number, ctx: SessionContext, out: Effect[]): void {
  const f = s.inFlight;
  if (f === undefined || f.kind !== "publish" || f.msgId !== m.msgId) return;
  if (
    m.returnCode === ReturnCode.InvalidTopicId &&
    !f.delivery.reregistered &&
    (f.message as Publish).topicIdType === TopicIdType.Normal
  ) {
    s.topics.remove(f.topicId);
    f.delivery.reregistered = true;
    s.queue.putBack(f.delivery);
  } else {
    if (m.returnCode !== ReturnCode.Accepted) {
      ctx.counters.deliveriesDropped++;
      ctx.log.warn("delivery-dropped", {
        clientId: s.clientId,
        topic: f.delivery.topicName,
        reason: `client answered PUBACK with return code ${m.returnCode}`,
      });
    }
    delivered(f.delivery, out);
  }
  completeInFlight(s, now, ctx, out);
}

/** Gateway → client QoS 2: PUBREC → PUBREL (the client holds the message now, so the broker may have its PUBCOMP). */
export function handlePubRec(s: Session, m: PubFlow, now: number, _ctx: SessionContext, out: Effect[]): void {
  const f = s.inFlight;
  if (f === undefined || f.msgId !== m.msgId) return;
  if (f.kind === "pubrel") {
    out.push({ kind: "send", message: f.message });
    return;
  }
  if (f.kind !== "publish") return;
  if (f.delivery.brokerPacketId !== undefined) s.qos2Sent.delete(f.delivery.brokerPacketId);
  delivered(f.delivery, out);
  f.kind = "pubrel";
  f.message = { type: MsgType.PubRel, msgId: m.msgId };
  f.sentAt = now;
  f.retries = 0;
  out.push({ kind: "send", message: f.message });
}

export function handlePubComp(s: Session, m: PubFlow, now: number, ctx: SessionContext, out: Effect[]): void {
  const f = s.inFlight;
  if (f === undefined || f.kind !== "pubrel" || f.msgId !== m.msgId) return;
  completeInFlight(s, now, ctx, out);
}
