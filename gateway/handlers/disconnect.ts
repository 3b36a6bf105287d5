import { MsgType, type Disconnect } from "../../protocol";
import { goToSleep } from "../sleep/transitions";
import { endSession } from "../session/lifecycle";
import type { Effect, Session, SessionContext } from "../session/types";

/**
 * §6.12: DISCONNECT is answered with DISCONNECT and the upstream session closed with MQTT DISCONNECT,
 * so no will is published. §6.14: with a Duration a connected (or sleeping) client goes to sleep instead.
 */
export function handleDisconnect(s: Session, m: Disconnect, now: number, ctx: SessionContext, out: Effect[]): void {
  if (m.duration !== undefined && (s.state === "active" || s.state === "awake" || s.state === "asleep")) {
    goToSleep(s, m.duration, now, ctx, out);
    return;
  }
  out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
  endSession(
    s,
    "disconnected",
    m.duration === undefined
      ? "DISCONNECT"
      : `DISCONNECT with duration ${m.duration} before the connection was accepted`,
    true,
    ctx,
    out,
  );
}
