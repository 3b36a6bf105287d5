import type { Will } from "../session/types";
import type { BrokerStatus } from "./broker-watch";

export type { BrokerStatus };

/** What an upstream connection reports back to its session. */
export interface UpstreamSink {
  /** The broker answered CONNECT (ok), refused it (refused), or could not be reached / timed out. */
  connack(ok: boolean, refused: boolean): void;
  /** A forwarded QoS 1/2 PUBLISH is acknowledged by the broker (ok) or failed. msgId is the client's. */
  published(msgId: number, ok: boolean): void;
  /** granted: the QoS granted, or 128 for a refusal. */
  subAck(msgId: number, granted: number): void;
  unsubAck(msgId: number): void;
  /**
   * A message for the client. ack (QoS 1/2) must be called once the client has it; the broker waits for it.
   * packetId and dup: the broker's packet identifier and DUP flag, to recognise a QoS 2 message sent again.
   */
  message(
    topic: string,
    payload: Uint8Array,
    qos: 0 | 1 | 2,
    retain: boolean,
    ack: (() => void) | undefined,
    packetId?: number,
    dup?: boolean,
  ): void;
  /** The connection ended without the gateway asking for it. */
  closed(): void;
}

export interface UpstreamSessionOptions {
  clientId: string;
  cleanSession: boolean;
  /** Seconds. */
  keepAlive: number;
  will: Will | undefined;
  /** This client's own MQTT login (its access entry); absent: the adapter's own username / password. */
  username?: string;
  password?: string;
  /** This client's own TLS client certificate and key (its access entry); absent: the adapter's. */
  cert?: Buffer;
  key?: Buffer;
}

/** One client's connection to the broker (transparent mode: one MQTT session per MQTT-SN client). */
export interface UpstreamSession {
  /**
   * Forwards a PUBLISH. Returns false when a QoS 0 message was dropped because the connection to the
   * broker is backed up (its write buffer is past the adapter's bound): QoS 0 never grows memory without bound.
   */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean, msgId: number): boolean;
  subscribe(filter: string, qos: 0 | 1 | 2, msgId: number): void;
  unsubscribe(filter: string, msgId: number): void;
  /**
   * Replaces the connection: DISCONNECT (the broker discards the old will), then CONNECT again with this
   * will (MQTT cannot change a will on a live connection); a CleanSession 0 session also gets back what the
   * broker left unacknowledged (MQTT 3.1.1 §4.4). Reports connack() when the new connection is up.
   */
  replace(will: Will | undefined): void;
  /**
   * graceful: MQTT DISCONNECT, no will; otherwise the connection is dropped and the broker publishes the will.
   * after: the connection stays open (for acknowledgements only) until it settles; nothing else is reported.
   */
  close(graceful: boolean, after?: Promise<void>): Promise<void>;
}

/** Figures of aggregating mode's shared connections, for metrics. */
export interface AggregatingFigures {
  sharedOpen: number;
  sharedTotal: number;
  /** Persistent devices kept while away. */
  keptSessions: number;
  /** Messages parked for them now. */
  parked: number;
  parkedDropped: number;
  willsPublished: number;
}

/** A client's upstream connection while it is held: before CONNECT, awaiting CONNACK, open, or being replaced. */
export type UpstreamConnectionState = "waiting" | "connecting" | "open" | "replacing";

export interface Upstream {
  /**
   * Opens a client's connection. While an earlier connection of the same client id is still closing,
   * CONNECT waits for it, so the broker never sees two connections of one client at once (a takeover at
   * the broker could publish the old connection's will).
   */
  open(options: UpstreamSessionOptions, sink: UpstreamSink): UpstreamSession;
  /** QoS -1 publishes (§6.8), sent through the connection that watches the broker. */
  publishAnonymous(topic: string, payload: Uint8Array, retain: boolean): void;
  /**
   * Whether the broker answers the connection that watches it (the gateway's own in transparent mode, the
   * first shared one in aggregating mode): "unknown" until the first attempt settles (and for adapters that
   * do not watch), then "reachable", "refused" (CONNACK refused it) or "unreachable".
   */
  brokerStatus?(): BrokerStatus;
  /**
   * Opens the connection that watches the broker and keeps it open, so that brokerStatus() follows the
   * broker from the start. Called once the adapter's own state is restored (restore()).
   */
  watchBroker?(): void;
  /** Aggregating mode's figures (for metrics; only an adapter with shared connections gives them). */
  aggregatingFigures?(): AggregatingFigures | undefined;
  /** Client connections held now, by state (for metrics; adapters that do not track them leave it out). */
  connectionStates?(): Record<UpstreamConnectionState, number>;
  /**
   * At start, before the sessions of the durable store are restored: takes back what the adapter itself
   * kept there (aggregating mode's devices). Adapters that keep nothing leave it out.
   */
  restore?(): Promise<void>;
  /** Closes every connection gracefully (no wills). */
  close(): Promise<void>;
}
