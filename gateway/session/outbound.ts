import { MsgType, TopicIdType, type Message, type Publish } from "../../protocol";
import { hold } from "../sleep/transitions";
import { endSession } from "./lifecycle";
import type { Delivery, Effect, Session, SessionContext } from "./types";

/**
 * The outbound path: every message from the broker to a client goes through deliver() and pump().
 * One message awaiting an answer at a time (REGISTER, PUBLISH QoS 1/2, PUBREL); the others queue
 * behind it so order is kept. The broker's acknowledgement of a QoS 1/2 message (its token) is released
 * only when the client has the message. The queue holds at most maxInflight messages: when full, a QoS 0
 * message is dropped first (counted); a QoS 1/2 message that finds no QoS 0 to displace is dropped
 * without being acknowledged, so the broker still holds it.
 * A sleeping client (§6.14) will hold its messages here: pump() only sends while the client can hear.
 */
export function deliver(s: Session, d: Delivery, now: number, ctx: SessionContext, out: Effect[]): void {
  if (s.state === "asleep" && s.sleep !== undefined) {
    hold(s, d, ctx, out);
    return;
  }
  if (s.outQueue.length >= ctx.maxInflight) {
    const victim = d.qos === 0 ? -1 : s.outQueue.findIndex((q) => q.qos === 0);
    if (victim < 0) {
      // Full of QoS 1/2 messages: this one is not acknowledged to the broker, which keeps it (a persistent
      // session gets it again on the next connection); never acknowledged and then dropped.
      ctx.counters.deliveriesDropped++;
      ctx.log.warn("delivery-dropped", {
        clientId: s.clientId,
        topic: d.topic,
        reason: `queue full (limits.maxInflight = ${ctx.maxInflight}); left unacknowledged at the broker`,
      });
      return;
    }
    ctx.counters.deliveriesDropped++;
    s.outQueue.splice(victim, 1);
  }
  s.outQueue.push(d);
  pump(s, now, ctx, out);
}

function canSend(s: Session): boolean {
  return s.state === "active" || s.state === "awake";
}

function nextMsgId(s: Session): number {
  const id = s.nextMsgId;
  s.nextMsgId = id >= 0xffff ? 1 : id + 1;
  return id;
}

/** Sends queued messages until one awaits an answer. */
export function pump(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  while (s.inFlight === undefined && s.outQueue.length > 0 && canSend(s)) {
    const d = s.outQueue[0] as Delivery;
    let topicIdType: TopicIdType;
    let topicId: number | undefined = s.topics.predefinedIdOf(d.topic);
    if (topicId !== undefined) topicIdType = TopicIdType.Predefined;
    else if (d.topic.length === 2 && d.topic.charCodeAt(0) < 0x80 && d.topic.charCodeAt(1) < 0x80) {
      topicIdType = TopicIdType.Short;
      topicId = d.topic.charCodeAt(0) * 256 + d.topic.charCodeAt(1);
    } else {
      topicIdType = TopicIdType.Normal;
      topicId = s.topics.idOf(d.topic);
      if (topicId === undefined) {
        // §6.10: a topic the client has no id for (a wildcard subscription) is REGISTERed first.
        const id = s.topics.allocate();
        if (id === undefined) {
          s.outQueue.shift();
          ctx.counters.deliveriesDropped++;
          ctx.log.warn("delivery-dropped", {
            clientId: s.clientId,
            topic: d.topic,
            reason: `topic table full (limits.maxTopicsPerClient = ${ctx.maxTopicsPerClient})`,
          });
          if (d.token !== undefined) out.push({ kind: "upAck", token: d.token });
          continue;
        }
        const msgId = nextMsgId(s);
        const message: Message = { type: MsgType.Register, topicId: id, msgId, topicName: d.topic };
        s.inFlight = { kind: "register", msgId, message, delivery: d, topicId: id, sentAt: now, retries: 0 };
        out.push({ kind: "send", message });
        return;
      }
    }
    s.outQueue.shift();
    const msgId = d.qos === 0 ? 0 : nextMsgId(s);
    const message: Publish = {
      type: MsgType.Publish,
      dup: false,
      qos: d.qos,
      retain: d.retain,
      topicIdType,
      topicId,
      msgId,
      data: d.payload as unknown as number[],
      dataOffset: 0,
      dataLength: d.payload.length,
    };
    out.push({ kind: "send", message });
    if (d.qos > 0) s.inFlight = { kind: "publish", msgId, message, delivery: d, topicId, sentAt: now, retries: 0 };
  }
}

/** §6.13: resend the message awaiting an answer after T_RETRY, DUP set on PUBLISH; after N_RETRY the client is lost. */
export function onRetryDue(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  const f = s.inFlight;
  if (f === undefined || now < f.sentAt + ctx.tRetryMs) return;
  if (f.retries >= ctx.nRetry) {
    endSession(s, "lost", `no answer to ${f.kind} ${f.msgId} after ${ctx.nRetry} retries`, false, ctx, out);
    return;
  }
  f.retries++;
  f.sentAt = now;
  ctx.counters.retransmissions++;
  if (f.message.type === MsgType.Publish) f.message = { ...f.message, dup: true };
  out.push({ kind: "send", message: f.message });
}

/** The client answered the message in flight: release it and send what waits. */
export function completeInFlight(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  s.inFlight = undefined;
  pump(s, now, ctx, out);
}
