import { SleepBuffer, type SleepBufferLimits } from "../sleep/buffer";
import { LazyMap, LazySet } from "../lazy-collections";
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
    subscriptions: new LazyMap(),
    nextMsgId: 1,
    upstreamPending: new LazyMap(),
    qos2Received: new LazySet(),
    qos2Sent: new LazyMap(),
    pendingSubscribes: new LazyMap(),
    pendingUnsubscribes: new LazySet(),
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
