import { MsgType } from "../../protocol";
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

/** Ends the session because the client broke the protocol: DISCONNECT to it, upstream dropped so the will is published. */
export function violation(s: Session, what: string, ctx: SessionContext, out: Effect[]): void {
  ctx.counters.protocolViolations++;
  ctx.log.warn("protocol-violation", { clientId: s.clientId, key: s.key, state: s.state, what });
  out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
  endSession(s, "lost", what, false, ctx, out);
}

/** Leaves the session for good: upstream closed (gracefully, or dropped so the broker publishes the will). */
export function endSession(
  s: Session,
  to: "disconnected" | "lost",
  reason: string,
  graceful: boolean,
  ctx: SessionContext,
  out: Effect[],
): void {
  const hadUpstream = s.state !== "new" && s.state !== "awaitingWillTopic" && s.state !== "awaitingWillMsg";
  if (to === "lost") ctx.counters.clientsLost++;
  transition(s, to, reason, ctx);
  if (hadUpstream) out.push({ kind: "upClose", graceful });
  s.outQueue.length = 0;
  s.inFlight = undefined;
  s.deadline = Infinity;
  out.push({ kind: "end" });
}
