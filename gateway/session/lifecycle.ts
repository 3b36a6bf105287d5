import { MsgType } from "../../protocol";
import { connectionGone, discardAll, discardQoS0, returnInFlight } from "./custody";
import type { Effect, Session, SessionContext, SessionState } from "./types";

/** The one place a session changes state; every change is logged from → to. */
export function transition(s: Session, to: SessionState, reason: string, ctx: SessionContext): void {
  if (s.state === to) return;
  ctx.log.info("session-state", { clientId: s.clientId, key: s.key, from: s.state, to, reason });
  s.state = to;
}

export function isConnected(s: Session): boolean {
  return s.state === "active" || s.state === "awake";
}

/** Whether the session has an upstream connection (open, being opened or replaced, or kept through a new CONNECT). */
export function hasUpstream(s: Session): boolean {
  return s.state === "connectingUpstream" || hasOpenUpstream(s) || s.upstreamKept;
}

/** Whether the session's upstream connection is open (or being replaced). */
export function hasOpenUpstream(s: Session): boolean {
  return s.state === "active" || s.state === "asleep" || s.state === "awake";
}

/** Ends the session because the client broke the protocol: DISCONNECT to it, upstream dropped so the will is published. */
export function violation(s: Session, what: string, ctx: SessionContext, out: Effect[]): void {
  ctx.counters.protocolViolations++;
  ctx.log.warn("protocol-violation", { clientId: s.clientId, key: s.key, state: s.state, what });
  out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
  endSession(s, "lost", what, false, ctx, out);
}

/**
 * Closes the session's connection: upstream closed (gracefully, or dropped so the broker publishes the
 * will), the exchange in flight back in the queue, per-connection state cleared. The queue keeps its
 * custody: what the upstream connection still owed is left to the broker (custody.ts connectionGone).
 */
export function closeConnection(s: Session, graceful: boolean, out: Effect[], upstreamLost = false): void {
  if (hasUpstream(s)) out.push({ kind: "upClose", graceful });
  s.upstreamKept = false;
  // A new connection gets again what the broker left unacknowledged: nothing left to re-fetch.
  s.refetch = false;
  resetConnection(s);
  connectionGone(s, upstreamLost);
}

/** Clears what belongs to the connection with the client: the exchange in flight goes back to the queue. */
export function resetConnection(s: Session): void {
  returnInFlight(s);
  s.upstreamPending.clear();
  s.qos2Received.clear();
  s.pendingSubscribes.clear();
  s.pendingUnsubscribes.clear();
  s.pendingWillTopic = undefined;
  s.replacing = undefined;
  s.willResponses.length = 0;
  s.sleep = undefined;
  s.deadline = Infinity;
}

/**
 * Leaves the connection for good. A CleanSession 0 session keeps its QoS 1/2 messages for its next
 * CONNECT with CleanSession 0 (as the broker keeps a persistent session, MQTT 3.1.1 §3.1.2.4); a clean
 * session's messages are discarded. Counted and logged either way.
 */
export function endSession(
  s: Session,
  to: "disconnected" | "lost",
  reason: string,
  graceful: boolean,
  ctx: SessionContext,
  out: Effect[],
  upstreamLost = false,
): void {
  if (to === "lost") ctx.counters.clientsLost++;
  closeConnection(s, graceful, out, upstreamLost);
  transition(s, to, reason, ctx);
  if (s.cleanSession) discardAll(s, `${to}: ${reason}`, ctx, out);
  else discardQoS0(s, `${to}: ${reason}`, ctx);
  // QoS 2 MsgIds the client may have seen are session state too: the broker sends those messages again.
  out.push({ kind: "end", keep: !s.cleanSession && (s.queue.length > 0 || s.qos2Sent.size > 0) });
}
