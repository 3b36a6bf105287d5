import { MsgType, TopicIdType, type Message, type Publish } from "../../protocol";
import { admit, delivered, storeIfAsleep } from "./custody";
import { endSession } from "./lifecycle";
import type { Delivery, Effect, Session, SessionContext } from "./types";

/**
 * The outbound path: every message from the broker to a client goes through deliver() and pump().
 * One message awaits an answer at a time (REGISTER, PUBLISH QoS 1/2, PUBREL); the others wait in the
 * session's queue so order is kept. pump() sends only while the client can hear (active or awake, §6.14):
 * a sleeping client's messages simply stay queued.
 */
export function deliver(s: Session, d: Delivery, now: number, ctx: SessionContext, out: Effect[]): void {
  d.connection = s.connection;
  if (d.qos === 2 && d.brokerPacketId !== undefined) {
    const sentAs = s.qos2Sent.get(d.brokerPacketId);
    if (sentAs !== undefined) d.resendAs = sentAs;
  }
  if (!admit(s, d, ctx, out)) return;
  storeIfAsleep(s, d, ctx, out);
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

/** QoS 2 messages remembered at most per client until answered (oldest forgotten first). */
const MAX_QOS2_SENT = 64;

function rememberQoS2(s: Session, brokerPacketId: number, msgId: number): void {
  s.qos2Sent.delete(brokerPacketId);
  if (s.qos2Sent.size >= MAX_QOS2_SENT) s.qos2Sent.delete(s.qos2Sent.keys().next().value as number);
  s.qos2Sent.set(brokerPacketId, msgId);
}

/** Sends queued messages until one awaits an answer. */
export function pump(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  while (s.inFlight === undefined && s.queue.length > 0 && canSend(s)) {
    const d = s.queue.shift() as Delivery;
    let topicIdType: TopicIdType;
    let topicId: number | undefined = s.topics.predefinedIdOf(d.topicName);
    if (topicId !== undefined) topicIdType = TopicIdType.Predefined;
    else if (d.topicName.length === 2 && d.topicName.charCodeAt(0) < 0x80 && d.topicName.charCodeAt(1) < 0x80) {
      topicIdType = TopicIdType.Short;
      topicId = d.topicName.charCodeAt(0) * 256 + d.topicName.charCodeAt(1);
    } else {
      topicIdType = TopicIdType.Normal;
      topicId = s.topics.idOf(d.topicName);
      if (topicId === undefined) {
        // §6.10: a topic the client has no id for (a wildcard subscription) is REGISTERed first.
        const id = s.topics.allocate();
        if (id === undefined) {
          ctx.counters.deliveriesDropped++;
          ctx.log.warn("delivery-dropped", {
            clientId: s.clientId,
            topic: d.topicName,
            reason: `topic table full (limits.maxTopicsPerClient = ${ctx.maxTopicsPerClient})`,
          });
          delivered(d, out);
          continue;
        }
        const msgId = nextMsgId(s);
        const message: Message = { type: MsgType.Register, topicId: id, msgId, topicName: d.topicName };
        s.inFlight = { kind: "register", msgId, message, delivery: d, topicId: id, sentAt: now, retries: 0 };
        out.push({ kind: "send", message });
        return;
      }
    }
    const msgId = d.qos === 0 ? 0 : d.resendAs !== undefined ? d.resendAs : nextMsgId(s);
    if (d.qos === 2 && d.brokerPacketId !== undefined) rememberQoS2(s, d.brokerPacketId, msgId);
    const message: Publish = {
      type: MsgType.Publish,
      dup: d.resendAs !== undefined,
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
