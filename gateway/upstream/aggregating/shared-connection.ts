import { performance } from "node:perf_hooks";
import type { Log } from "../../../transports/link";
import { BROKER_RETRY_MS, type BrokerWatch } from "../broker-watch";
import { MqttConnection, type ConnectionOptions } from "../connection";

export type SharedState = "idle" | "connecting" | "open" | "retrying" | "closed";

export interface SharedEvents {
  /**
   * The connection is open (again). sessionPresent: the broker kept the shared session (MQTT 3.1.1
   * §3.2.2.2), subscriptions included; otherwise they are to be made again.
   */
  opened(sessionPresent: boolean): void;
  /** The open connection was lost (not a failed attempt): what depended on it ends. */
  dropped(): void;
  /** A broker message; acknowledge it on `connection` (a QoS 1/2 one is held by the broker until then). */
  message(
    topic: string,
    payload: Buffer,
    qos: 0 | 1 | 2,
    retain: boolean,
    dup: boolean,
    packetId: number,
    connection: MqttConnection,
  ): void;
}

/** Operations kept while the connection is not open, at most this many; beyond, they fail at once. */
const MAX_WAITING_OPERATIONS = 10_000;
/** While a connection stays down, a warning every this many failed attempts (once a minute). */
const REMIND_EVERY = 12;
/** A new need while retrying tries at once, at most this often. */
const NEED_RETRY_MS = 1000;

export type SharedOperation = (connection: MqttConnection | undefined) => void;

/**
 * One connection of the aggregating pool, kept open for as long as the gateway runs:
 *   idle ──start──▶ connecting ──CONNACK 0──▶ open ──dropped──▶ retrying ──after a pause──▶ connecting
 *   connecting ──refused, unreachable──▶ retrying;  any ──close──▶ closed
 * The pause is BROKER_RETRY_MS, as for the gateway's own connection in transparent mode. The session at
 * the broker is persistent (CleanSession 0, a fixed client id), so the broker keeps the union of
 * subscriptions and queues QoS 1/2 messages while the connection is down.
 * Every operation is defined in every state: while connecting it waits (bounded); an attempt that fails
 * fails what waited for it; while retrying, once closed, or past the bound, an operation runs at once
 * without a connection and so reports failure (a device connecting then hears CONNACK congestion at once,
 * as in transparent mode when the broker cannot be reached).
 */
export class SharedConnection {
  private phase: SharedState = "idle";
  private connection: MqttConnection | undefined;
  private waiting: SharedOperation[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** performance.now() of the last attempt to connect. */
  private attemptedAt = 0;

  /** watch: this connection tells whether the broker is reachable (the pool's first one does). */
  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: SharedEvents,
    private readonly log: Log,
    private readonly watch?: BrokerWatch,
  ) {}

  get state(): SharedState {
    return this.phase;
  }

  get clientId(): string {
    return this.options.clientId;
  }

  start(): void {
    if (this.phase === "idle") this.connect();
  }

  /** Runs op on the open connection; keeps it until the connection opens; or runs it with none. */
  whenOpen(op: SharedOperation): void {
    if (this.phase === "open" && this.connection !== undefined) {
      op(this.connection);
      return;
    }
    // A new need while retrying tries at once, at most once a second (as a new client would in transparent mode).
    if (this.phase === "retrying" && performance.now() - this.attemptedAt >= NEED_RETRY_MS) {
      clearTimeout(this.retryTimer);
      this.connect();
    }
    if ((this.phase === "idle" || this.phase === "connecting") && this.waiting.length < MAX_WAITING_OPERATIONS) {
      this.waiting.push(op);
      this.start();
    } else op(undefined);
  }

  /** The open connection, if it is open now. */
  get current(): MqttConnection | undefined {
    return this.phase === "open" ? this.connection : undefined;
  }

  private connect(): void {
    this.phase = "connecting";
    this.attemptedAt = performance.now();
    let refused = false;
    const connection: MqttConnection = new MqttConnection(this.options, {
      connack: (returnCode, sessionPresent) => {
        if (connection !== this.connection) return;
        if (returnCode !== 0) {
          // `closed` follows and the connection is retried.
          refused = true;
          this.watch?.failed("refused", `CONNACK return code ${returnCode}`, { returnCode });
          return;
        }
        this.phase = "open";
        if (this.watch !== undefined) this.watch.reached();
        else if (this.failures > 0) this.log.warn("shared-connection-open", { clientId: this.options.clientId });
        this.failures = 0;
        this.events.opened(sessionPresent);
        const ops = this.waiting;
        this.waiting = [];
        for (const op of ops) op(connection);
      },
      message: (topic, payload, qos, retain, dup, messageId) => {
        if (connection === this.connection)
          this.events.message(topic, payload, qos, retain, dup, messageId, connection);
      },
      closed: (error) => {
        if (connection !== this.connection) return;
        this.connection = undefined;
        if (this.phase === "closed") return;
        const wasOpen = this.phase === "open";
        this.failures++;
        this.report(error, refused);
        this.phase = "retrying";
        this.failWaiting();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (this.phase === "retrying") this.connect();
        }, BROKER_RETRY_MS);
        this.retryTimer.unref();
        if (wasOpen) this.events.dropped();
      },
    });
    this.connection = connection;
    connection.start();
  }

  /**
   * A failed attempt or a lost connection: the broker watch reports it when this connection has one;
   * otherwise a warning at the first failure and then once a minute.
   */
  private report(error: Error | undefined, refused: boolean): void {
    if (this.watch !== undefined) {
      if (!refused) this.watch.failed("unreachable", error?.message ?? "the connection closed", {});
      return;
    }
    if (this.failures === 1 || this.failures % REMIND_EVERY === 0)
      this.log.warn("shared-connection-lost", {
        clientId: this.options.clientId,
        error: error?.message,
        attempts: this.failures,
        retryMs: BROKER_RETRY_MS,
      });
  }

  private failWaiting(): void {
    const ops = this.waiting;
    this.waiting = [];
    for (const op of ops) op(undefined);
  }

  /** Graceful: MQTT DISCONNECT; the broker keeps the shared session. Waiting operations fail. */
  async close(): Promise<void> {
    if (this.phase === "closed") return;
    this.phase = "closed";
    clearTimeout(this.retryTimer);
    this.failWaiting();
    const connection = this.connection;
    this.connection = undefined;
    if (connection !== undefined) await connection.close(true);
  }
}
