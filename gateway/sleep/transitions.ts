import { MsgType } from "../../protocol";
import { endSession, transition } from "../session/lifecycle";
import { pump } from "../session/outbound";
import type { Delivery, Effect, Session, SessionContext } from "../session/types";
import { SleepBuffer, limitsFor, type BufferedMessage, type OfferResult, type SleepBufferLimits } from "./buffer";
import { defaultSleepConfig } from "./config";
import { sleepDeadline } from "./supervision";

/** A message held for a sleeping client. */
export interface Held extends BufferedMessage {
  /** Called once the client has the message: deletes its durable copy. Undefined when nothing is owed. */
  token: (() => void) | undefined;
}

/** What a session that has slept at least once carries, §6.14. */
export interface SleepState {
  /** Sleep duration, seconds (DISCONNECT Duration). */
  duration: number;
  buffer: SleepBuffer<Held>;
  /** A PINGREQ woke the client: PINGRESP is owed once everything buffered has been delivered. */
  pingRespOwed: boolean;
  /**
   * The upstream connection was closed gracefully because a QoS 1/2 message could not be held: the
   * broker keeps it (and what follows) in the persistent session until the client wakes.
   */
  upstreamPaused: boolean;
}

export interface SleepCounters {
  /** QoS 0 messages dropped from full sleep buffers. */
  sleepDropped: number;
  /** QoS 1/2 messages refused by full sleep buffers (left unacknowledged upstream, or dropped for CleanSession 1). */
  sleepRefused: number;
  /** PINGREQs that would have woken a session from another address (or with another client id): ignored. */
  spoofedWakeups: number;
  /** Sleeping clients lost: nothing heard within duration plus grace. */
  sleepExpired: number;
  /**
   * Held messages discarded when a sleeping session ended or was replaced: QoS 0 ones at the end of any
   * session, QoS 1/2 ones of a persistent session only on a CONNECT with CleanSession 1 or when the table
   * of ended sessions is full.
   */
  sleepDiscarded: number;
}

export function newSleepCounters(): SleepCounters {
  return { sleepDropped: 0, sleepRefused: 0, spoofedWakeups: 0, sleepExpired: 0, sleepDiscarded: 0 };
}

/** The sleep settings a session reads (SessionContext.sleep). */
export interface SleepContext {
  limitsFor(clientId: string): SleepBufferLimits;
  graceMs: number;
}

const defaults = defaultSleepConfig();
const defaultSleepContext: SleepContext = {
  limitsFor: (clientId) => limitsFor(defaults, clientId),
  graceMs: defaults.graceMs,
};

function sleepContext(ctx: SessionContext): SleepContext {
  return ctx.sleep ?? defaultSleepContext;
}

/** §6.14 DISCONNECT with Duration from active, awake or asleep: answer DISCONNECT, buffer from now on. */
export function goToSleep(s: Session, duration: number, now: number, ctx: SessionContext, out: Effect[]): void {
  out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
  if (s.sleep === undefined) {
    s.sleep = {
      duration,
      buffer: new SleepBuffer<Held>(sleepContext(ctx).limitsFor(s.clientId)),
      pingRespOwed: false,
      upstreamPaused: false,
    };
  } else {
    s.sleep.duration = duration;
    s.sleep.pingRespOwed = false;
  }
  s.lastHeard = now;
  transition(s, "asleep", `DISCONNECT with duration ${duration}`, ctx);
  // Queued messages must not reach a client that sleeps: they wait in the buffer, in order.
  for (const d of s.outQueue.splice(0)) hold(s, d, ctx, out);
  out.push({ kind: "sleepPersist" });
}

/**
 * A message from the broker for a sleeping client, buffered under the overflow policy of SleepBuffer.
 * A durable message (in the store, already acknowledged upstream) keeps its token, which deletes it from
 * the store once the client has it. Any other QoS 1/2 message is acknowledged upstream as soon as it is
 * held: mqtt.js takes packets in order, so holding its acknowledgement would stall the whole upstream
 * connection for the length of the sleep.
 * A QoS 1/2 message that cannot be held is never acknowledged when the session is persistent: the
 * upstream connection is closed gracefully (no will) so the broker keeps it, and what follows, until the
 * client wakes. A clean session has no persistent session at the broker: the message is dropped there.
 */
export function hold(s: Session, d: Delivery, ctx: SessionContext, out: Effect[]): void {
  const sleep = s.sleep as SleepState;
  const durable = d.durable === true;
  const held: Held = {
    topicName: d.topic,
    payload: new Uint8Array(d.payload),
    qos: d.qos,
    retain: d.retain,
    token: durable ? d.token : undefined,
  };
  const result: OfferResult<Held> | { kept: false; reason: "store"; dropped: Held[] } =
    d.storeRefused === true ? { kept: false, reason: "store", dropped: [] } : sleep.buffer.offer(held);
  for (const dropped of result.dropped) {
    ctx.counters.sleepDropped++;
    ctx.log.warn("sleep-buffer-drop", {
      clientId: s.clientId,
      topic: dropped.topicName,
      qos: 0,
      maxMessages: sleep.buffer.limits.maxMessages,
      maxBytes: sleep.buffer.limits.maxBytes,
    });
  }
  if (result.kept) {
    ctx.log.debug("sleep-held", {
      clientId: s.clientId,
      topic: held.topicName,
      qos: held.qos,
      durable,
      held: sleep.buffer.length,
    });
    if (!durable && d.token !== undefined) out.push({ kind: "upAck", token: d.token });
    return;
  }
  if (held.qos === 0) return;
  ctx.counters.sleepRefused++;
  const fields = { clientId: s.clientId, topic: held.topicName, qos: held.qos, reason: result.reason };
  if (durable) {
    // Already acknowledged upstream (the store had room, the buffer not): it stays in the store.
    ctx.log.warn("sleep-buffer-refused", { ...fields, action: "kept in the store only" });
    return;
  }
  if (!s.cleanSession && d.token !== undefined) {
    ctx.log.warn("sleep-buffer-refused", {
      ...fields,
      action: "left unacknowledged upstream; upstream paused until the client wakes",
    });
    if (!sleep.upstreamPaused) {
      sleep.upstreamPaused = true;
      out.push({ kind: "upClose", graceful: true });
    }
    return;
  }
  ctx.log.warn("sleep-buffer-refused", {
    ...fields,
    action: "dropped: a CleanSession 1 client has no persistent session at the broker to keep it",
  });
  if (d.token !== undefined) out.push({ kind: "upAck", token: d.token });
}

/** Whether a QoS 1/2 message would be held now (the shell asks before writing it to the store). */
export function wouldHold(s: Session, topicName: string, payload: Uint8Array): boolean {
  return (
    s.sleep !== undefined &&
    s.state === "asleep" &&
    !s.sleep.upstreamPaused &&
    s.sleep.buffer.wouldKeep({ topicName, payload })
  );
}

/** Moves the buffered messages to the outbound queue, oldest first, and reconnects a paused upstream. */
function release(s: Session, out: Effect[]): void {
  const sleep = s.sleep as SleepState;
  for (const h of sleep.buffer.drain()) {
    s.outQueue.push({
      topic: h.topicName,
      payload: h.payload,
      qos: h.qos,
      retain: h.retain,
      token: h.token,
      reregistered: false,
    });
  }
  if (sleep.upstreamPaused) {
    sleep.upstreamPaused = false;
    out.push({ kind: "upConnect", will: s.will });
  }
}

/** §6.14 PINGREQ(ClientId) from the sleeping client: awake, deliver everything, PINGRESP last. */
export function wake(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  const sleep = s.sleep as SleepState;
  if (s.state === "asleep") transition(s, "awake", "PINGREQ", ctx);
  sleep.pingRespOwed = true;
  release(s, out);
  if (s.inFlight !== undefined) {
    // Sent before the client slept and never answered: once more now that it listens (DUP set for PUBLISH).
    const f = s.inFlight;
    f.sentAt = now;
    if (f.message.type === MsgType.Publish) f.message = { ...f.message, dup: true };
    out.push({ kind: "send", message: f.message });
  }
  pump(s, now, ctx, out);
}

/** Called after every step: an awake client gets PINGRESP once nothing is left to deliver, and sleeps again. */
export function finishWake(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  const sleep = s.sleep;
  if (s.state !== "awake" || sleep === undefined || !sleep.pingRespOwed) return;
  if (s.inFlight !== undefined || s.outQueue.length > 0) return;
  sleep.pingRespOwed = false;
  out.push({ kind: "send", message: { type: MsgType.PingResp } });
  s.lastHeard = now;
  transition(s, "asleep", "buffered messages delivered, PINGRESP sent", ctx);
}

/** The buffered messages and the message in flight of a sleeping session, for the session a CONNECT starts. */
export function takeOver(old: Session, into: Session): void {
  if (old.inFlight !== undefined && old.inFlight.kind !== "pubrel") into.outQueue.push(old.inFlight.delivery);
  old.inFlight = undefined;
  if (old.sleep !== undefined) {
    for (const h of old.sleep.buffer.drain()) {
      into.outQueue.push({
        topic: h.topicName,
        payload: h.payload,
        qos: h.qos,
        retain: h.retain,
        token: h.token,
        reregistered: false,
      });
    }
  }
  for (const d of old.outQueue.splice(0)) into.outQueue.push(d);
}

/**
 * A sleeping persistent session (CleanSession 0) ends: lost, or DISCONNECT without Duration. Its QoS 1/2
 * messages were acknowledged upstream when they were held, so the broker will not send them again; as
 * the broker would for its persistent session (MQTT 3.1.1 §3.1.2.4) they are kept for the next CONNECT
 * with CleanSession 0 (§6.14 ends the sleep, not the session state). Empties the buffer; the QoS 0
 * messages left over are only counted, for the caller to discard.
 */
export function takeAcknowledged(s: Session): { kept: Held[]; discarded: number } {
  const sleep = s.sleep;
  if (sleep === undefined) return { kept: [], discarded: 0 };
  const all = sleep.buffer.drain();
  const kept = s.cleanSession ? [] : all.filter((h) => h.qos !== 0);
  return { kept, discarded: all.length - kept.length };
}

/** The messages kept from an ended session, queued for the session a CONNECT with CleanSession 0 starts: first, in order. */
export function carryKept(into: Session, kept: Held[]): void {
  const newer = into.outQueue.splice(0);
  for (const h of kept)
    into.outQueue.push({
      topic: h.topicName,
      payload: h.payload,
      qos: h.qos,
      retain: h.retain,
      token: h.token,
      reregistered: false,
    });
  for (const d of newer) into.outQueue.push(d);
}

export function isSleeping(s: Session): boolean {
  return (s.state === "asleep" || s.state === "awake") && s.sleep !== undefined;
}

/** The deadline of a sleeping session: its sleep duration plus grace, and the retry of a message in flight while awake. */
export function sleepingDeadline(s: Session, ctx: SessionContext): number {
  const sleep = s.sleep as SleepState;
  let d = sleepDeadline(s.lastHeard, sleep.duration, sleepContext(ctx).graceMs);
  if (s.state === "awake" && s.inFlight !== undefined) d = Math.min(d, s.inFlight.sentAt + ctx.tRetryMs);
  return d;
}

/** §6.14: nothing heard within the sleep duration plus grace: lost, upstream dropped so the broker publishes the will. */
export function checkSleepExpiry(s: Session, now: number, ctx: SessionContext, out: Effect[]): boolean {
  const sleep = s.sleep as SleepState;
  if (now < sleepDeadline(s.lastHeard, sleep.duration, sleepContext(ctx).graceMs)) return false;
  ctx.counters.sleepExpired++;
  const paused = sleep.upstreamPaused;
  endSession(
    s,
    "lost",
    `nothing heard within the sleep duration ${sleep.duration} s plus ${sleepContext(ctx).graceMs} ms`,
    false,
    ctx,
    out,
  );
  if (paused) out.push({ kind: "publishWill" });
  return true;
}

/** What a restart needs to resume a sleeping session from the durable store. */
export interface RestoredSleeper {
  clientId: string;
  keepAlive: number;
  duration: number;
  lastHeardAt: number;
  will: Session["will"];
}

/**
 * Puts a fresh session into the asleep state of a sleeper recorded before a restart, holding its stored
 * messages in their order. Returns how many the buffer could not take (limits lowered since): those stay
 * in the store.
 */
export function restoreSleeping(s: Session, r: RestoredSleeper, messages: Held[], ctx: SessionContext): number {
  s.clientId = r.clientId;
  s.cleanSession = false;
  s.duration = r.keepAlive;
  s.will = r.will;
  s.lastHeard = r.lastHeardAt;
  const buffer = new SleepBuffer<Held>(sleepContext(ctx).limitsFor(r.clientId));
  s.sleep = { duration: r.duration, buffer, pingRespOwed: false, upstreamPaused: false };
  let refused = 0;
  for (const m of messages) if (!buffer.offer(m).kept) refused++;
  transition(s, "asleep", "restored from the session store after a restart", ctx);
  return refused;
}
