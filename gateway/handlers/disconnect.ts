import { MsgType, type Disconnect } from "../../protocol";
import { endSession } from "../session/lifecycle";
import type { Effect, Session, SessionContext } from "../session/types";

/**
 * §6.12: DISCONNECT is answered with DISCONNECT and the upstream session closed with MQTT DISCONNECT,
 * so no will is published. A Duration (going to sleep, §6.14) is for now treated the same way.
 */
export function handleDisconnect(s: Session, m: Disconnect, ctx: SessionContext, out: Effect[]): void {
  out.push({ kind: "send", message: { type: MsgType.Disconnect, duration: undefined } });
  const reason = m.duration === undefined ? "DISCONNECT" : `DISCONNECT with duration ${m.duration} (sleep not supported: ended)`;
  endSession(s, "disconnected", reason, true, ctx, out);
}
