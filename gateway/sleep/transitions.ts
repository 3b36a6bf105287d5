import { MsgType } from "../../protocol";
import { endSession, transition } from "../session/lifecycle";
import { storeIfAsleep } from "../session/custody";
import { pump } from "../session/outbound";
import type { Delivery, Effect, RestoredSleeper, Session, SessionContext } from "../session/types";
import { sleepDeadline } from "./supervision";

/**
 * Sleeping clients, §6.14. A sleeping client's messages wait in the session's queue like anyone's;
 * what sleep changes is that nothing is sent until the client wakes, and that it is supervised by its
 * sleep duration instead of its keep-alive.
 */

/** §6.14 DISCONNECT with Duration from active, awake or asleep: answer DISCONNECT, hold everything from now on. */
export function goToSleep(s: Session, duration: number, now: number, ctx: SessionContext, out: Effect[]): void {
  out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
  s.sleep = { duration, pingRespOwed: false };
  s.lastHeard = now;
  transition(s, "asleep", `DISCONNECT with duration ${duration}`, ctx);
  out.push({ kind: "persist", state: "asleep" });
  // What waits unacknowledged at the broker moves to the store, freeing the broker's in-flight window.
  for (const d of s.queue.toArray()) storeIfAsleep(s, d, ctx, out);
}

/** §6.14 PINGREQ(ClientId) from the sleeping client: awake, deliver everything, PINGRESP last. */
export function wake(s: Session, now: number, ctx: SessionContext, out: Effect[]): void {
  const sleep = s.sleep;
  if (sleep === undefined) return;
  if (s.state === "asleep") transition(s, "awake", "PINGREQ", ctx);
  sleep.pingRespOwed = true;
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
  if (s.inFlight !== undefined || s.queue.length > 0) return;
  sleep.pingRespOwed = false;
  out.push({ kind: "send", message: { type: MsgType.PingResp } });
  s.lastHeard = now;
  transition(s, "asleep", "queued messages delivered, PINGRESP sent", ctx);
}

export function isSleeping(s: Session): boolean {
  return (s.state === "asleep" || s.state === "awake") && s.sleep !== undefined;
}

/** The deadline of a sleeping session: its sleep duration plus grace, and the retry of a message in flight while awake. */
export function sleepingDeadline(s: Session, ctx: SessionContext): number {
  const duration = s.sleep === undefined ? 0 : s.sleep.duration;
  let d = sleepDeadline(s.lastHeard, duration, ctx.sleepGraceMs);
  if (s.state === "awake" && s.inFlight !== undefined) d = Math.min(d, s.inFlight.sentAt + ctx.tRetryMs);
  return d;
}

/** §6.14: nothing heard within the sleep duration plus grace: lost, upstream dropped so the broker publishes the will. */
export function checkSleepExpiry(s: Session, now: number, ctx: SessionContext, out: Effect[]): boolean {
  const duration = s.sleep === undefined ? 0 : s.sleep.duration;
  if (now < sleepDeadline(s.lastHeard, duration, ctx.sleepGraceMs)) return false;
  ctx.counters.sleepExpired++;
  endSession(
    s,
    "lost",
    `nothing heard within the sleep duration ${duration} s plus ${ctx.sleepGraceMs} ms`,
    false,
    ctx,
    out,
  );
  return true;
}

/**
 * Puts a fresh session into the asleep state of a sleeper recorded before a restart, its stored
 * messages queued in their order (all of them, whatever the limits say now: they were admitted before).
 */
export function restoreSleeping(s: Session, r: RestoredSleeper, messages: Delivery[], ctx: SessionContext): void {
  queueStored(s, r.clientId, messages);
  s.duration = r.keepAlive;
  s.will = r.will;
  s.lastHeard = r.lastHeardAt;
  for (const [filter, qos] of r.subscriptions) s.subscriptions.set(filter, qos);
  s.sleep = { duration: r.duration, pingRespOwed: false };
  transition(s, "asleep", "restored from the session store after a restart", ctx);
}

/**
 * Fills a fresh session with the stored messages of a CleanSession 0 session recorded before a restart; it waits
 * ended for its next CONNECT.
 */
export function restoreKept(s: Session, clientId: string, messages: Delivery[], ctx: SessionContext): void {
  queueStored(s, clientId, messages);
  transition(s, "disconnected", "restored from the session store after a restart", ctx);
}

function queueStored(s: Session, clientId: string, messages: Delivery[]): void {
  s.clientId = clientId;
  s.cleanSession = false;
  for (let i = messages.length - 1; i >= 0; i--) s.queue.putBack(messages[i] as Delivery);
}
