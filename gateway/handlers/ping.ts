import { MsgType, type PingReq } from "../../protocol";
import type { Effect, Session, SessionContext } from "../session/types";

/** §6.15: PINGREQ → PINGRESP. Any message already refreshed the keep-alive. */
export function handlePingReq(s: Session, _m: PingReq, ctx: SessionContext, out: Effect[]): void {
  if (s.state !== "active" && s.state !== "awake") {
    ctx.counters.unknownClientFrames++;
    return;
  }
  out.push({ kind: "send", message: { type: MsgType.PingResp } });
}
