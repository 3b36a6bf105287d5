import { messageBytes } from "../sleep/buffer";
import type { Delivery, Effect, Session, SessionContext } from "./types";

/**
 * Custody of messages on their way to a client (DESIGN rule 9): each message is one Delivery record,
 * held in the session's queue or in flight, from its arrival until the client has it. These functions
 * are the only places a record leaves the session without being delivered, and each says where the
 * message goes instead.
 */

function release(d: Delivery, out: Effect[]): void {
  if (d.release !== undefined) out.push({ kind: "release", release: d.release });
  d.release = undefined;
}

/** The exchange with the client was cut short (new connection, session end): the message goes back to the head of the queue. */
export function returnInFlight(s: Session): void {
  const f = s.inFlight;
  s.inFlight = undefined;
  // After PUBREC the client has the message (its custody ended there); only the PUBREL exchange is left.
  if (f === undefined || f.kind === "pubrel") return;
  // Its connection is gone and the broker sends it again on the current one: not kept twice.
  if (f.delivery.custody === "broker" && f.delivery.release === undefined) return;
  // A PUBLISH the client may have had goes again with its MsgId and DUP set (§6.7: the client dedupes QoS 2).
  if (f.kind === "publish") f.delivery.resendAs = f.msgId;
  s.queue.putBack(f.delivery);
}

/**
 * The upstream connection that brought the "broker" records is closing or being replaced, so their
 * acknowledgements can no longer be sent. A CleanSession 0 session gets them again from the broker on
 * its next connection (MQTT 3.1.1 §4.4): the records are removed so they are not delivered twice. A
 * clean session has nothing to come back: the records stay, with nothing left to acknowledge.
 * `lost`: nothing more can be acknowledged on it (the broker dropped it, or it is replaced at once);
 * otherwise the shell keeps it open until the store writes under way are done.
 */
export function connectionGone(s: Session, lost = false): void {
  s.connection++;
  const orphan = (d: Delivery): void => {
    if (d.custody !== "broker") return;
    d.custody = "none";
    d.release = undefined;
  };
  if (s.cleanSession) {
    for (const d of s.queue.toArray()) orphan(d);
    if (s.inFlight !== undefined) orphan(s.inFlight.delivery);
    return;
  }
  // One being written to the store stays while the connection can still carry its acknowledgement (the
  // shell closes it after the write): its copy takes custody then, in order. A lost connection cannot.
  for (const d of s.queue.removeWhere((d) => d.custody === "broker" && (lost || d.storing !== true)))
    d.release = undefined;
  // The one in flight may still be answered by the client, but the broker sends it again too: it stays a
  // "broker" record with nothing to acknowledge, so that it is removed, not kept, when this connection ends.
  if (s.inFlight !== undefined && s.inFlight.delivery.custody === "broker") s.inFlight.delivery.release = undefined;
}

/** Discards every queued message: a CONNECT with CleanSession 1 (MQTT 3.1.1 §3.1.2.4), or a clean session ending. Counted and logged. */
export function discardAll(s: Session, reason: string, ctx: SessionContext, out: Effect[]): void {
  const all = s.queue.drain();
  if (all.length === 0) return;
  for (const d of all) release(d, out);
  ctx.counters.sleepDiscarded += all.length;
  ctx.log.warn("messages-discarded", { clientId: s.clientId, messages: all.length, reason });
}

/** A CleanSession 0 session ends: its QoS 0 messages are discarded (counted); QoS 1/2 ones stay for its next CONNECT. */
export function discardQoS0(s: Session, reason: string, ctx: SessionContext): void {
  const dropped = s.queue.removeWhere((d) => d.qos === 0);
  if (dropped.length === 0) return;
  ctx.counters.sleepDiscarded += dropped.length;
  ctx.log.warn("messages-discarded", { clientId: s.clientId, messages: dropped.length, qos: 0, reason });
}

/**
 * A message from the broker enters the session's queue under the queue's overflow policy (SleepBuffer):
 * QoS 0 messages make room first. A QoS 1/2 message larger than the queue could ever hold is acknowledged
 * and dropped, counted. One that does not fit now:
 * - "broker" custody of a CleanSession 0 session: left unacknowledged, so the broker keeps it; the
 *   session fetches it again (a new upstream connection) once the queue has drained;
 * - "broker" custody of a clean session: the broker would not send it again, so it is acknowledged and
 *   dropped, counted and logged;
 * - "store" custody cannot happen (the shell writes to the store only what the queue can take); should
 *   it, the copy in the store is delivered after the next restart.
 * Returns whether the message was queued.
 */
export function admit(s: Session, d: Delivery, ctx: SessionContext, out: Effect[]): boolean {
  if (d.qos > 0 && messageBytes(d) > s.queue.limits.maxBytes) {
    // It could never be queued: re-fetching it would only bring it back. Acknowledged and dropped.
    ctx.counters.deliveriesDropped++;
    ctx.log.warn("delivery-dropped", {
      clientId: s.clientId,
      topic: d.topicName,
      reason: `message larger than the client's queue (sleep.maxBytes = ${s.queue.limits.maxBytes})`,
    });
    release(d, out);
    return false;
  }
  if (s.refetch && d.qos > 0 && d.custody === "broker" && !s.cleanSession) {
    // Messages before it wait at the broker: it waits too, so the broker sends them all again in order.
    defer(s, d.topicName, d.qos === 2 ? 2 : 1, "earlier messages wait at the broker", ctx);
    return false;
  }
  const result = s.queue.offer(d);
  const limits = s.queue.limits;
  for (const dropped of result.dropped) {
    ctx.counters.sleepDropped++;
    ctx.log.warn("queue-drop", {
      clientId: s.clientId,
      topic: dropped.topicName,
      qos: 0,
      maxMessages: limits.maxMessages,
      maxBytes: limits.maxBytes,
    });
  }
  if (result.kept || d.qos === 0) return result.kept;
  const fields = { clientId: s.clientId, topic: d.topicName, qos: d.qos, reason: result.reason };
  if (d.custody === "broker" && !s.cleanSession) {
    defer(s, d.topicName, d.qos, result.reason, ctx);
    return false;
  }
  ctx.counters.sleepRefused++;
  if (d.custody === "store") {
    ctx.log.error("delivery-refused", { ...fields, action: "kept in the store only, delivered after a restart" });
    return false;
  }
  ctx.log.warn("delivery-refused", {
    ...fields,
    action: "acknowledged and dropped: a CleanSession 1 client has no session at the broker to keep it",
  });
  release(d, out);
  return false;
}

/** A QoS 1/2 message is left unacknowledged at the broker (a CleanSession 0 session): fetched again once the queue has drained. */
export function defer(s: Session, topic: string, qos: 1 | 2, reason: string, ctx: SessionContext): void {
  ctx.counters.deliveriesDeferred++;
  ctx.log.warn("delivery-deferred", {
    clientId: s.clientId,
    topic,
    qos,
    reason,
    action: "left unacknowledged at the broker, fetched again later",
  });
  s.refetch = true;
}

/**
 * A sleeping CleanSession 0 session's QoS 1/2 message is written to the durable store before the broker is
 * acknowledged, so that neither a long sleep nor a SIGKILL of the gateway needs the broker's in-flight
 * window (the store survives a restart; MQTT-SN §6.14 buffering).
 */
export function storeIfAsleep(s: Session, d: Delivery, ctx: SessionContext, out: Effect[]): void {
  if (s.state !== "asleep" || d.storing === true) return;
  if (!ctx.durable || d.qos === 0 || d.custody !== "broker" || s.cleanSession) {
    ctx.log.debug("sleep-held", { clientId: s.clientId, topic: d.topicName, qos: d.qos, durable: false });
    return;
  }
  d.storing = true;
  out.push({ kind: "store", delivery: d });
}

/**
 * The store has the message: still held, it changes custody (the broker gets its acknowledgement now,
 * if its connection is still there; the copy is deleted once the client has it); already delivered or
 * given up, the copy is deleted.
 */
export function onStored(
  s: Session,
  d: Delivery,
  deleteCopy: (() => void) | undefined,
  ctx: SessionContext,
  out: Effect[],
): void {
  d.storing = false;
  const held =
    s.queue.toArray().includes(d) ||
    (s.inFlight !== undefined && s.inFlight.kind !== "pubrel" && s.inFlight.delivery === d);
  if (deleteCopy === undefined) {
    // Not stored (store full or failing): it stays unacknowledged with the broker, and queued while its
    // connection lasts (acknowledged once the client has it). Its connection gone, the broker sends it again
    // on the current one, so this record goes.
    if (!held || d.custody !== "broker" || d.connection === s.connection) return;
    if (s.inFlight !== undefined && s.inFlight.delivery === d) d.release = undefined;
    else s.queue.removeWhere((q) => q === d);
    return;
  }
  // Delivered or given up meanwhile, already stored, or its connection gone (the broker sends it again):
  // the copy is not needed.
  if (!held || d.custody !== "broker" || d.release === undefined) {
    out.push({ kind: "release", release: deleteCopy });
    return;
  }
  out.push({ kind: "release", release: d.release });
  d.custody = "store";
  d.release = deleteCopy;
  ctx.log.debug("sleep-held", { clientId: s.clientId, topic: d.topicName, qos: d.qos, durable: true });
}

/** Releases a delivered message's custody (the client has it). */
export function delivered(d: Delivery, out: Effect[]): void {
  release(d, out);
}

/**
 * Messages were left at the broker and the queue has drained: the upstream connection is remade
 * (DISCONNECT, CONNECT with CleanSession 0), and the broker sends them again (MQTT 3.1.1 §4.4).
 */
export function refetchIfDrained(s: Session, ctx: SessionContext, out: Effect[]): void {
  if (!s.refetch || s.replacing !== undefined || s.queue.length > 0 || s.inFlight !== undefined) return;
  if (s.state !== "active" && s.state !== "awake" && s.state !== "asleep") return;
  s.refetch = false;
  s.replacing = "refetch";
  ctx.counters.refetches++;
  ctx.log.info("upstream-refetch", { clientId: s.clientId, reason: "messages left unacknowledged at the broker" });
  connectionGone(s, true);
  out.push({ kind: "upReplace", will: s.will });
}
