import type { Connect, Message, QoS } from "../../protocol";
import type { AccessGrant } from "../access/decide";
import { newAdmissionCounters, type AdmissionCounters } from "../admission/counters";
import type { Log } from "../../transports/link";
import type { BufferedMessage, SleepBuffer, SleepBufferLimits } from "../sleep/buffer";
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

/**
 * Who answers for a message on its way to the client until the client acknowledges it:
 * - "broker": not yet acknowledged upstream; `release` acknowledges it. Should this record be lost, the
 *   broker sends the message again on the next connection of a CleanSession 0 session (MQTT 3.1.1 §4.4).
 * - "store": acknowledged upstream after it was written to the durable store; `release` deletes that copy.
 * - "none": QoS 0, or a QoS 1/2 message whose upstream connection is gone with a clean session.
 */
export type Custody = "broker" | "store" | "none";

/**
 * The one record of a message from the broker to a client, from its arrival until the client has it
 * (PUBACK, or PUBREC for QoS 2): queued, in flight, asleep, across a new CONNECT of a CleanSession 0
 * session and, in the store, across a restart.
 */
export interface Delivery extends BufferedMessage {
  custody: Custody;
  /** Called once the client has the message (or the message is given up): see Custody. */
  release: (() => void) | undefined;
  /** Set once the client answered PUBACK 0x02 and the topic was registered again. */
  reregistered: boolean;
  /** The upstream connection that brought it (Session.connection when it arrived). */
  connection?: number;
  /** Being written to the durable store: kept when its connection ends, since the copy will hold it. */
  storing?: boolean;
  /** QoS 2 from the broker: its packet identifier, by which a resend on a new connection is recognised. */
  brokerPacketId?: number;
  /** QoS 2 sent again by the broker after the client may have had it: the MsgId it was sent with, reused with DUP. */
  resendAs?: number;
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

/** Sleep duration and the wake-up in progress, §6.14: set when the client first goes to sleep. */
export interface SleepState {
  /** Sleep duration, seconds (DISCONNECT Duration). */
  duration: number;
  /** A PINGREQ woke the client: PINGRESP is owed once everything queued has been delivered. */
  pingRespOwed: boolean;
}

/** Why the upstream connection is being replaced: a will update (§6.4), or fetching messages left at the broker. */
export type UpstreamReplace = "will" | "refetch";

/** A will update awaiting the new connection's CONNACK: WILLTOPICRESP or WILLMSGRESP is owed. */
export type WillUpdate = "willTopic" | "willMsg";

/** Where a client is reached: the shell's link and address behind the key; the session only compares keys. */
export interface Route {
  /** link name + address (+ wireless node id). */
  key: string;
}

export interface Session {
  /** Route key where the client is reached now. */
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
  /** Topic filters subscribed upstream (kept with a persistent session for a restart). */
  subscriptions: Map<string, 0 | 1 | 2>;
  nextMsgId: number;
  /** Client PUBLISH QoS 1/2 ids forwarded upstream, awaiting the broker (value: QoS × 0x10000 + topic id). */
  upstreamPending: Map<number, number>;
  /** Client PUBLISH QoS 2 ids answered with PUBREC, awaiting PUBREL (§6.8): a DUP is answered, not forwarded. */
  qos2Received: Set<number>;
  /**
   * QoS 2 messages sent to the client and not yet answered with PUBREC, by the broker's packet identifier →
   * the MsgId used: the broker sends them again on a new connection (MQTT 3.1.1 §4.4), and the client must
   * see the same MsgId with DUP set to keep exactly once (§6.7). At most MAX_QOS2_SENT entries.
   */
  qos2Sent: Map<number, number>;
  /** SUBSCRIBE msgId → topic id for the SUBACK, awaiting the broker. */
  pendingSubscribes: Map<number, number>;
  pendingUnsubscribes: Set<number>;
  /** Number of the current upstream connection: counts up each time one is closed or replaced. */
  connection: number;
  /** Set while the upstream connection is being replaced. */
  replacing: UpstreamReplace | undefined;
  /** A new CONNECT (CleanSession 0 on a CleanSession 0 session) keeps the open upstream connection through its handshake. */
  upstreamKept: boolean;
  /** Will updates answered once the replaced connection is up, in the order they came. */
  willResponses: WillUpdate[];
  /**
   * Messages toward the client, oldest first, bounded by the client's sleep limits in every state (QoS 0
   * dropped first when full). The message in flight is not in it.
   */
  queue: SleepBuffer<Delivery>;
  inFlight: InFlight | undefined;
  /** QoS 1/2 messages were left unacknowledged at the broker because the queue was full: fetched again once it has drained. */
  refetch: boolean;
  /** The earliest time something must happen (retry, keep-alive, handshake); Infinity when nothing. */
  deadline: number;
  sleep: SleepState | undefined;
  /** What the access config grants this client (its upstream login, its topics); undefined: no `access` key, anything goes. */
  access: AccessGrant | undefined;
}

export type Effect =
  | { kind: "send"; message: Message }
  | { kind: "upConnect"; will: Will | undefined }
  | { kind: "upPublish"; topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean; msgId: number }
  | { kind: "upSubscribe"; filter: string; qos: 0 | 1 | 2; msgId: number }
  | { kind: "upUnsubscribe"; filter: string; msgId: number }
  /** DISCONNECT the upstream connection (no will published) and CONNECT again with this will. */
  | { kind: "upReplace"; will: Will | undefined }
  /** Write this queued message to the durable store (a sleeping CleanSession 0 session); "stored" follows. */
  | { kind: "store"; delivery: Delivery }
  /** The custody of a message ends: acknowledge it upstream or delete its stored copy. */
  | { kind: "release"; release: () => void }
  /** graceful: MQTT DISCONNECT (the broker discards the will); otherwise the connection is dropped and the will published. */
  | { kind: "upClose"; graceful: boolean }
  /** The client is reached at another route from now on (`from`: the route key it had). */
  | { kind: "rebind"; route: Route; from: string }
  /** The connection has ended; `keep`: the session still holds messages for its next CONNECT (CleanSession 0). */
  | { kind: "end"; keep: boolean }
  /** The session went to sleep or became active: a persistent session's record in the durable store says so (for a restart). */
  | { kind: "persist"; state: "asleep" | "active" };

/** What a restart needs to resume a sleeping session from the durable store. */
export interface RestoredSleeper {
  clientId: string;
  keepAlive: number;
  duration: number;
  lastHeardAt: number;
  will: Will | undefined;
  subscriptions: Array<[string, 0 | 1 | 2]>;
}

export type SessionEvent =
  | { kind: "frame"; message: Message }
  /** A CONNECT carrying this session's client id, from `route` (the same one or another: a takeover). */
  /** `access`: what the access config grants this connection (undefined without an `access` key). */
  | { kind: "connect"; message: Connect; route: Route; access?: AccessGrant | undefined }
  /**
   * A sleeper recorded before a restart, restored into this fresh session: asleep again with its stored messages
   * queued in their order; `access`: what the access config of this start grants it (undefined without an
   * `access` key).
   */
  | { kind: "restored"; sleeper: RestoredSleeper; messages: Delivery[]; access: AccessGrant | undefined }
  /**
   * A CleanSession 0 session recorded before a restart (it had ended, or was active) with stored messages:
   * they are queued in this fresh session, which waits ended for its next CONNECT.
   */
  | { kind: "restoredKept"; clientId: string; messages: Delivery[] }
  /** Another client id CONNECTed from this session's route: the address was reused, this client is gone. */
  | { kind: "addressTaken"; by: string }
  /** PINGREQ(ClientId) for this sleeping session from another route; `mayMove`: sleep.allowAddressChange lists it. */
  | { kind: "wakeFrom"; message: Message; route: Route; mayMove: boolean }
  | { kind: "upConnack"; ok: boolean; refused: boolean }
  | { kind: "upPublished"; msgId: number; ok: boolean }
  | { kind: "upSubAck"; msgId: number; granted: number }
  | { kind: "upUnsubAck"; msgId: number }
  | { kind: "upMessage"; delivery: Delivery }
  /** A queued message was written to the durable store (`release` deletes that copy), or could not be (undefined). */
  | { kind: "stored"; delivery: Delivery; release: (() => void) | undefined }
  | { kind: "upClosed" }
  | { kind: "tick" }
  | { kind: "shutdown" };

export interface Counters extends AdmissionCounters {
  malformedDropped: number;
  protocolViolations: number;
  unknownClientFrames: number;
  qosMinusOneDropped: number;
  deliveriesDropped: number;
  /** QoS 1/2 messages left unacknowledged at the broker because the client's queue was full (fetched again later). */
  deliveriesDeferred: number;
  /** Upstream connections remade to fetch messages left at the broker. */
  refetches: number;
  retransmissions: number;
  clientsLost: number;
  takeovers: number;
  congestionRefusals: number;
  /** QoS 0 publishes from clients dropped because the broker connection was backed up. */
  upstreamDropped: number;
  /** Exceptions caught on one client's path; that session was ended, the gateway went on. */
  sessionFaults: number;
  /** QoS 0 messages dropped from full client queues. */
  sleepDropped: number;
  /** QoS 1/2 messages refused by full client queues of clean sessions (acknowledged upstream and dropped). */
  sleepRefused: number;
  /** PINGREQs that would have woken a session from another address (or with another client id): ignored. */
  spoofedWakeups: number;
  /** Sleeping clients lost: nothing heard within duration plus grace. */
  sleepExpired: number;
  /** Queued messages discarded: QoS 0 ones when a session ends, QoS 1/2 ones on a CONNECT with CleanSession 1 or at the end of a clean session. */
  sleepDiscarded: number;
  /** PUBLISH messages of clients handed to the broker, by QoS; QoS -1 (§6.8) goes upstream at QoS 0. */
  publishesUpQosMinusOne: number;
  publishesUpQos0: number;
  publishesUpQos1: number;
  publishesUpQos2: number;
  /** PUBLISH messages sent to clients, by QoS; first transmissions only (a resend with DUP, §6.13, is not counted again). */
  publishesDownQos0: number;
  publishesDownQos1: number;
  publishesDownQos2: number;
}

export function newCounters(): Counters {
  return {
    ...newAdmissionCounters(),
    malformedDropped: 0,
    protocolViolations: 0,
    unknownClientFrames: 0,
    qosMinusOneDropped: 0,
    deliveriesDropped: 0,
    deliveriesDeferred: 0,
    refetches: 0,
    retransmissions: 0,
    clientsLost: 0,
    takeovers: 0,
    congestionRefusals: 0,
    upstreamDropped: 0,
    sessionFaults: 0,
    sleepDropped: 0,
    sleepRefused: 0,
    spoofedWakeups: 0,
    sleepExpired: 0,
    sleepDiscarded: 0,
    publishesUpQosMinusOne: 0,
    publishesUpQos0: 0,
    publishesUpQos1: 0,
    publishesUpQos2: 0,
    publishesDownQos0: 0,
    publishesDownQos1: 0,
    publishesDownQos2: 0,
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
  /** A durable store is configured: a sleeping CleanSession 0 session's QoS 1/2 messages are written to it. */
  durable: boolean;
  /** A sleeping client is lost when nothing is heard within its sleep duration plus this grace, §6.14. */
  sleepGraceMs: number;
  /** Queue limits of a client id (sleep.maxMessages / maxBytes and their per-client overrides). */
  queueLimitsFor(clientId: string): SleepBufferLimits;
  counters: Counters;
  log: Log;
}

export type Qos = QoS;
