import { hasWildcard, MsgType, ReturnCode, TopicIdType, type Subscribe, type Unsubscribe } from "../../protocol";
import { refusesSubscribe } from "../admission/access-refusals";
import type { Effect, Session, SessionContext } from "../session/types";

function grantable(qos: number): 0 | 1 | 2 {
  return qos === 1 || qos === 2 ? qos : 0;
}

/** The MQTT filter a SUBSCRIBE / UNSUBSCRIBE names, or undefined for an unknown predefined id. */
function filterOf(s: Session, m: Subscribe | Unsubscribe): string | undefined {
  if (m.topicIdType === TopicIdType.Normal) return m.topicName;
  if (m.topicIdType === TopicIdType.Predefined) return s.topics.predefinedNameOf(m.topicId);
  return String.fromCharCode(Math.floor(m.topicId / 256), m.topicId % 256);
}

/**
 * §6.9 SUBSCRIBE by name (wildcards allowed), predefined id or short name. SUBACK follows the broker's
 * SUBACK and carries the topic id: the registered id for a plain name, 0x0000 for a wildcard filter,
 * the predefined id for a predefined topic, 0x0000 for a short name.
 */
export function handleSubscribe(s: Session, m: Subscribe, ctx: SessionContext, out: Effect[]): void {
  if (s.pendingSubscribes.has(m.msgId)) return; // DUP of a SUBSCRIBE the broker has not answered yet
  const filter = filterOf(s, m);
  const reply = (topicId: number, returnCode: ReturnCode): void => {
    out.push({ kind: "send", message: { type: MsgType.SubAck, qos: 0, topicId, msgId: m.msgId, returnCode } });
  };
  if (filter === undefined) return reply(0, ReturnCode.InvalidTopicId);
  // Outside the subscribe filters of the client's access entry: SUBACK 0x03 "not supported" (§5.3.10), nothing upstream.
  if (refusesSubscribe(s.access, filter, ctx.counters, ctx.log, { clientId: s.clientId, message: "SUBSCRIBE" }))
    return reply(0, ReturnCode.NotSupported);
  let topicId = 0;
  if (m.topicIdType === TopicIdType.Predefined) topicId = m.topicId;
  else if (m.topicIdType === TopicIdType.Normal && !hasWildcard(filter)) {
    const id = s.topics.register(filter);
    if (id === undefined) {
      ctx.counters.congestionRefusals++;
      ctx.log.warn("limit-hit", {
        clientId: s.clientId,
        limit: "limits.maxTopicsPerClient",
        value: ctx.maxTopicsPerClient,
      });
      return reply(0, ReturnCode.Congestion);
    }
    topicId = id;
  }
  if (s.pendingSubscribes.size >= ctx.maxInflight) {
    ctx.counters.congestionRefusals++;
    return reply(topicId, ReturnCode.Congestion);
  }
  s.pendingSubscribes.set(m.msgId, topicId);
  s.subscriptions.set(filter, grantable(m.qos));
  out.push({ kind: "upSubscribe", filter, qos: grantable(m.qos), msgId: m.msgId });
}

export function handleUpSubAck(s: Session, msgId: number, granted: number, out: Effect[]): void {
  const topicId = s.pendingSubscribes.get(msgId);
  if (topicId === undefined) return;
  s.pendingSubscribes.delete(msgId);
  const ok = granted >= 0 && granted <= 2;
  out.push({
    kind: "send",
    message: {
      type: MsgType.SubAck,
      qos: ok ? (granted as 0 | 1 | 2) : 0,
      topicId,
      msgId,
      returnCode: ok ? ReturnCode.Accepted : ReturnCode.NotSupported,
    },
  });
}

/** §6.11 UNSUBSCRIBE → UNSUBACK once the broker answered. */
export function handleUnsubscribe(s: Session, m: Unsubscribe, ctx: SessionContext, out: Effect[]): void {
  if (s.pendingUnsubscribes.has(m.msgId)) return;
  const filter = filterOf(s, m);
  if (filter === undefined || s.pendingUnsubscribes.size >= ctx.maxInflight) {
    out.push({ kind: "send", message: { type: MsgType.UnsubAck, msgId: m.msgId } });
    return;
  }
  s.pendingUnsubscribes.add(m.msgId);
  s.subscriptions.delete(filter);
  out.push({ kind: "upUnsubscribe", filter, msgId: m.msgId });
}

export function handleUpUnsubAck(s: Session, msgId: number, out: Effect[]): void {
  if (!s.pendingUnsubscribes.delete(msgId)) return;
  out.push({ kind: "send", message: { type: MsgType.UnsubAck, msgId } });
}
