import { MsgType, type Message, type PingReq } from "../../protocol";
import { wake } from "../sleep/transitions";
import type { Effect, Route, Session, SessionContext } from "../session/types";

/** A wake-up that is not the sleeping client's own: ignored, counted, logged. */
function ignoreWake(s: Session, ctx: SessionContext, fields: Record<string, unknown>): void {
  ctx.counters.spoofedWakeups++;
  ctx.log.warn("wake-ignored", { clientId: s.clientId, sleepingAt: s.key, ...fields });
}

/**
 * §6.15: PINGREQ → PINGRESP. Any message already refreshed the keep-alive.
 * §6.14: from a sleeping client (asleep or awake) it is the wake-up: PINGRESP follows the queued messages.
 */
export function handlePingReq(s: Session, m: PingReq, now: number, ctx: SessionContext, out: Effect[]): void {
  if ((s.state === "asleep" || s.state === "awake") && s.sleep !== undefined) {
    if (m.clientId !== undefined && m.clientId !== s.clientId) {
      ignoreWake(s, ctx, { claimed: m.clientId, reason: "PINGREQ carries another client id" });
      return;
    }
    wake(s, now, ctx, out);
    return;
  }
  if (s.state !== "active" && s.state !== "awake") {
    ctx.counters.unknownClientFrames++;
    return;
  }
  out.push({ kind: "send", message: { type: MsgType.PingResp } });
}

/**
 * §6.14 PINGREQ(ClientId) for a sleeping session from another route: a spoofed wake-up, ignored and
 * counted, unless sleep.allowAddressChange lists the client id (NAT or NB-IoT rebinding): then the
 * session moves there and wakes.
 */
export function handleWakeFrom(
  s: Session,
  m: Message,
  route: Route,
  mayMove: boolean,
  now: number,
  ctx: SessionContext,
  out: Effect[],
): void {
  if (m.type !== MsgType.PingReq || s.sleep === undefined || (s.state !== "asleep" && s.state !== "awake")) return;
  if (!mayMove) {
    ignoreWake(s, ctx, {
      from: route.key,
      reason: "PINGREQ from another address; list the client id in sleep.allowAddressChange if it may move",
    });
    return;
  }
  ctx.log.info("session-moved", { clientId: s.clientId, from: s.key, to: route.key });
  out.push({ kind: "rebind", route, from: s.key });
  s.key = route.key;
  s.lastHeard = now;
  handlePingReq(s, m, now, ctx, out);
}
