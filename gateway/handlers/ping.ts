import { MsgType, type PingReq } from "../../protocol";
import { wake } from "../sleep/transitions";
import type { Effect, Session, SessionContext } from "../session/types";

/**
 * §6.15: PINGREQ → PINGRESP. Any message already refreshed the keep-alive.
 * §6.14: from a sleeping client (asleep or awake) it is the wake-up: PINGRESP follows the buffered messages.
 */
export function handlePingReq(s: Session, m: PingReq, now: number, ctx: SessionContext, out: Effect[]): void {
  if ((s.state === "asleep" || s.state === "awake") && s.sleep !== undefined) {
    if (m.clientId !== undefined && m.clientId !== s.clientId) {
      ctx.counters.spoofedWakeups++;
      ctx.log.warn("wake-ignored", {
        clientId: s.clientId,
        key: s.key,
        claimed: m.clientId,
        reason: "PINGREQ carries another client id",
      });
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
