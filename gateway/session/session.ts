import { TopicTable } from "./topics";
import type { Session } from "./types";

export function newSession(key: string, topics: TopicTable, now: number): Session {
  return {
    key,
    clientId: "",
    state: "new",
    cleanSession: true,
    duration: 0,
    lastHeard: now,
    handshakeDeadline: Infinity,
    will: undefined,
    pendingWillTopic: undefined,
    topics,
    nextMsgId: 1,
    upstreamPending: new Map(),
    qos2Received: new Set(),
    pendingSubscribes: new Map(),
    pendingUnsubscribes: new Set(),
    willUpdate: undefined,
    outQueue: [],
    inFlight: undefined,
    deadline: Infinity,
    sleep: undefined,
  };
}
