import type { SessionState } from "../session/types";
import type { GatewayView } from "./view";

/** Every session state, in the order of the connect flow (§6.2, §6.3) and then §6.14's. */
export const SESSION_STATES: readonly SessionState[] = [
  "new",
  "awaitingWillTopic",
  "awaitingWillMsg",
  "connectingUpstream",
  "active",
  "asleep",
  "awake",
  "disconnected",
  "lost",
];

/** Sessions, and messages queued toward their clients, by session state: one walk over every session. */
export interface Census {
  sessions: Record<SessionState, number>;
  /** Messages waiting in the clients' queues (the one in flight not included). */
  bufferedMessages: Record<SessionState, number>;
  /** Their octets, topic names included, as the queue limits count them (sleep.maxBytes). */
  bufferedOctets: Record<SessionState, number>;
}

function zeros(): Record<SessionState, number> {
  const out = {} as Record<SessionState, number>;
  for (const s of SESSION_STATES) out[s] = 0;
  return out;
}

export function censusOf(view: GatewayView): Census {
  const census: Census = { sessions: zeros(), bufferedMessages: zeros(), bufferedOctets: zeros() };
  for (const { session } of view.devices()) {
    census.sessions[session.state]++;
    census.bufferedMessages[session.state] += session.queue.length;
    census.bufferedOctets[session.state] += session.queue.bytes;
  }
  return census;
}
