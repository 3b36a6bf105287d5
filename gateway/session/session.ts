import { SleepBuffer, type SleepBufferLimits } from "../sleep/buffer";
import type { TopicTable } from "./topics";
import type { Delivery, Session } from "./types";

export function newSession(key: string, topics: TopicTable, now: number, queueLimits: SleepBufferLimits): Session {
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
    subscriptions: new Map(),
    nextMsgId: 1,
    upstreamPending: new Map(),
    qos2Received: new Set(),
    qos2Sent: new Map(),
    pendingSubscribes: new Map(),
    pendingUnsubscribes: new Set(),
    connection: 0,
    replacing: undefined,
    upstreamKept: false,
    willResponses: [],
    queue: new SleepBuffer<Delivery>(queueLimits),
    inFlight: undefined,
    refetch: false,
    deadline: Infinity,
    sleep: undefined,
    access: undefined,
  };
}
