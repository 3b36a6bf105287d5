import { step } from "../session/machine";
import type { Effect, Session, SessionEvent } from "../session/types";
import type { Shell } from "./context";

/**
 * An event for a session rather than a connection (a store write finished): the session's live connection
 * runs it; a session kept after its connection ended is stepped alone (only custody changes can follow);
 * a session that is gone gets `otherwise`.
 */
export function runForSession(shell: Shell, s: Session, event: SessionEvent, otherwise: () => void): void {
  const live = shell.byClientId.get(s.clientId);
  if (live !== undefined && live.session === s) {
    shell.run(live, event);
    return;
  }
  if (shell.ended.get(s.clientId) !== s) {
    otherwise();
    return;
  }
  const out: Effect[] = [];
  step(s, event, shell.now(), shell.ctx, out);
  for (const e of out) if (e.kind === "release") e.release();
}
