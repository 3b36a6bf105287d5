import type { Message, QoS } from "../../protocol";
import type { Log } from "../../transports/link";
import type { SleepContext, SleepCounters, SleepState } from "../sleep/transitions";
import { newSleepCounters } from "../sleep/transitions";
import type { TopicTable } from "./topics";

/**
 * Client states at the gateway. §6.14 names active, asleep, awake, disconnected and lost; the others
 * are the steps of the connect flow (§6.2, §6.3): waiting for WILLTOPIC, for WILLMSG, for the broker.
 */
export type SessionState =
  | "new"
  | "awaitingWillTopic"
  | "awaitingWillMsg"
  | "connectingUpstream"
  | "active"
  | "asleep"
  | "awake"
  | "disconnected"
  | "lost";

export interface Will {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** A message from the broker waiting for, or in, delivery to the client. */
export interface Delivery {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Releases the broker's acknowledgement (mqtt.js handleMessage callback); undefined for QoS 0. */
  token: (() => void) | undefined;
  /** Set once the client answered PUBACK 0x02 and the topic was registered again. */
  reregistered: boolean;
  /** The message is in the durable store and already acknowledged upstream; token deletes it from the store. */
  durable?: boolean;
  /** The durable store refused it (full or failing): it must stay unacknowledged upstream. */
  storeRefused?: boolean;
}

/** The one gateway→client message awaiting an answer (REGISTER, PUBLISH QoS 1/2, PUBREL), §6.13. */
export interface InFlight {
  kind: "register" | "publish" | "pubrel";
  msgId: number;
  message: Message;
  delivery: Delivery;
  /** Topic id being registered (kind "register"). */
  topicId: number;
  sentAt: number;
  retries: number;
}

export interface Session {
  /** link name + address (+ wireless node id): where the client is reached. */
  key: string;
  clientId: string;
  state: SessionState;
  cleanSession: boolean;
  /** Keep-alive, seconds (§5.4.4 CONNECT Duration). */
  duration: number;
  lastHeard: number;
  /** When the will handshake or the upstream CONNECT must have finished. */
  handshakeDeadline: number;
  will: Will | undefined;
  /** A will being assembled during the connect handshake. */
  pendingWillTopic: Will | undefined;
  topics: TopicTable;
  nextMsgId: number;
  /** Client PUBLISH QoS 1/2 ids forwarded upstream, awaiting the broker (value: QoS). */
  upstreamPending: Map<number, number>;
  /** Client PUBLISH QoS 2 ids answered with PUBREC, awaiting PUBREL (§6.8): a DUP is answered, not forwarded. */
  qos2Received: Set<number>;
  /** SUBSCRIBE msgId → topic id for the SUBACK, awaiting the broker. */
  pendingSubscribes: Map<number, number>;
  pendingUnsubscribes: Set<number>;
  /** "topic" or "msg" while the upstream connection is being replaced for WILLTOPICUPD / WILLMSGUPD. */
  willUpdate: "topic" | "msg" | undefined;
  /** The outbound path, gateway → client: queued deliveries, and the one awaiting an answer. */
  outQueue: Delivery[];
  inFlight: InFlight | undefined;
  /** The earliest time something must happen (retry, keep-alive, handshake); Infinity when nothing. */
  deadline: number;
  /** Sleep duration and buffer, §6.14: set when the client first goes to sleep. */
  sleep: SleepState | undefined;
}

export type Effect =
  | { kind: "send"; message: Message }
  | { kind: "upConnect"; will: Will | undefined }
  | { kind: "upPublish"; topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean; msgId: number }
  | { kind: "upSubscribe"; filter: string; qos: 0 | 1 | 2; msgId: number }
  | { kind: "upUnsubscribe"; filter: string; msgId: number }
  | { kind: "upReplaceWill"; will: Will | undefined }
  | { kind: "upAck"; token: () => void }
  /** graceful: MQTT DISCONNECT (the broker discards the will); otherwise the connection is dropped and the will published. */
  | { kind: "upClose"; graceful: boolean }
  /** The session has ended: the shell forgets it. */
  | { kind: "end" }
  /** The client went to sleep: a persistent session's record is written to the durable store. */
  | { kind: "sleepPersist" }
  /** The will is owed but the upstream connection was closed gracefully (paused): the shell publishes it. */
  | { kind: "publishWill" };

export type SessionEvent =
  | { kind: "frame"; message: Message }
  | { kind: "upConnack"; ok: boolean; refused: boolean }
  | { kind: "upPublished"; msgId: number; ok: boolean }
  | { kind: "upSubAck"; msgId: number; granted: number }
  | { kind: "upUnsubAck"; msgId: number }
  | { kind: "upMessage"; delivery: Delivery }
  | { kind: "upClosed" }
  | { kind: "tick" }
  | { kind: "shutdown" };

export interface Counters extends SleepCounters {
  malformedDropped: number;
  protocolViolations: number;
  unknownClientFrames: number;
  qosMinusOneDropped: number;
  deliveriesDropped: number;
  retransmissions: number;
  clientsLost: number;
  takeovers: number;
  congestionRefusals: number;
  /** QoS 0 publishes from clients dropped because the broker connection was backed up. */
  upstreamDropped: number;
}

export function newCounters(): Counters {
  return {
    ...newSleepCounters(),
    malformedDropped: 0,
    protocolViolations: 0,
    unknownClientFrames: 0,
    qosMinusOneDropped: 0,
    deliveriesDropped: 0,
    retransmissions: 0,
    clientsLost: 0,
    takeovers: 0,
    congestionRefusals: 0,
    upstreamDropped: 0,
  };
}

/** What the session logic reads besides the session: limits, timers, counters, the log. */
export interface SessionContext {
  maxTopicsPerClient: number;
  maxInflight: number;
  maxMessageSize: number;
  tRetryMs: number;
  nRetry: number;
  keepAliveGraceMs: number;
  willHandshakeTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  /** Sleeping clients, §6.14; defaults (gateway/sleep/config.ts) when left out. */
  sleep?: SleepContext;
  counters: Counters;
  log: Log;
}

export type Qos = QoS;
