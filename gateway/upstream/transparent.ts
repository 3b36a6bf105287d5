import type { Log } from "../../transports/link";
import type { Will } from "../session/types";
import { connectionOptionsFor, type BrokerOptions } from "./broker-options";
import { MqttConnection, type ConnectionOptions } from "./connection";
import type { BrokerStatus } from "./broker-watch";
import { GatewayConnection } from "./gateway-connection";
import { LazyMap } from "../lazy-collections";
import type {
  Upstream,
  UpstreamConnectionState,
  UpstreamSession,
  UpstreamSessionOptions,
  UpstreamSink,
} from "./upstream";

export interface TransparentOptions extends BrokerOptions {
  /** Client id of the gateway's own connection for QoS -1 publishes. */
  gatewayClientId: string;
  log: Log;
}

/** Operations made while a connection is being opened or replaced, at most this many; beyond, they fail at once. */
const MAX_WAITING_OPERATIONS = 1000;

/**
 * Transparent mode: one MQTT connection per MQTT-SN client, with its client id, clean session,
 * keep-alive and will (MqttConnection: MQTT 3.1.1 on mqtt-packet). Connections of one client id are
 * serialized: a new one sends CONNECT only once the previous one has closed.
 */
export class TransparentUpstream implements Upstream {
  private readonly sessions = new Set<TransparentSession>();
  /** The last connection of each client id still closing. */
  private readonly closing = new Map<string, Promise<void>>();
  private own: GatewayConnection | undefined;

  constructor(private readonly options: TransparentOptions) {}

  connectionOptions(o: UpstreamSessionOptions): ConnectionOptions {
    const opts = connectionOptionsFor(this.options, o.clientId, o.cleanSession, o.keepAlive, o.will);
    if (o.username !== undefined || o.password !== undefined) {
      // A client's own login replaces the adapter's as a whole: never its username with the gateway's password.
      delete opts.username;
      delete opts.password;
      if (o.username !== undefined) opts.username = o.username;
      if (o.password !== undefined) opts.password = o.password;
    }
    // A client's own TLS certificate (its access entry) replaces the adapter's.
    if (o.cert !== undefined && o.key !== undefined) {
      opts.cert = o.cert;
      opts.key = o.key;
    }
    return opts;
  }

  open(options: UpstreamSessionOptions, sink: UpstreamSink): UpstreamSession {
    const session = new TransparentSession(this, options, sink, this.options.log);
    this.sessions.add(session);
    return session;
  }

  /** Settles once every earlier connection of this client id has closed. */
  after(clientId: string): Promise<void> {
    return this.closing.get(clientId) ?? Promise.resolve();
  }

  /** A connection of this client id is closing: later ones wait for `done`. */
  closingNow(clientId: string, done: Promise<void>): void {
    const chained = Promise.all([this.after(clientId), done]).then(() => undefined);
    this.closing.set(clientId, chained);
    void chained.then(() => {
      if (this.closing.get(clientId) === chained) this.closing.delete(clientId);
    });
  }

  forget(session: TransparentSession): void {
    this.sessions.delete(session);
  }

  /** The gateway's own connection (QoS -1 publishes, broker reachability), made on first need. */
  private gatewayConnection(): GatewayConnection {
    this.own ??= new GatewayConnection(
      this.connectionOptions({
        clientId: this.options.gatewayClientId,
        cleanSession: true,
        keepAlive: 60,
        will: undefined,
      }),
      this.options.log,
    );
    return this.own;
  }

  /**
   * Opens the gateway's own connection now and keeps it open: an unreachable broker is then reported at
   * warn level with the retry cadence, and brokerStatus() follows it.
   */
  watchBroker(): void {
    this.gatewayConnection().watch();
  }

  connectionStates(): Record<UpstreamConnectionState, number> {
    const counts = { waiting: 0, connecting: 0, open: 0, replacing: 0 };
    for (const session of this.sessions) {
      const state = session.current;
      if (state !== "closed" && state !== "failed") counts[state]++;
    }
    return counts;
  }

  brokerStatus(): BrokerStatus {
    return this.own?.status ?? "unknown";
  }

  publishAnonymous(topic: string, payload: Uint8Array, retain: boolean): void {
    this.gatewayConnection().publish(topic, payload, retain);
  }

  async close(): Promise<void> {
    const all = [...this.sessions].map((s) => s.close(true));
    if (this.own !== undefined) all.push(this.own.close());
    all.push(...this.closing.values());
    await Promise.all(all);
  }
}

type Operation = (c: MqttConnection) => void;

/**
 * One client's upstream session as a state machine:
 *   waiting (an earlier connection of the client id is closing) → connecting → open
 *   open ──replace──▶ replacing (old connection DISCONNECTed, new one connecting) → open
 *   any ──close──▶ closed;  connecting / replacing ──refused, unreachable──▶ failed;  open ──broker gone──▶ failed
 * Every operation is defined in every state: before the connection is open operations wait (bounded);
 * once closed or failed they fail at once.
 */
class TransparentSession implements UpstreamSession {
  private state: UpstreamConnectionState | "closed" | "failed" = "waiting";
  private connection: MqttConnection | undefined;
  private waitingOps: Operation[] = [];
  /** Subscriptions made, made again when a clean session's connection is replaced. */
  private readonly subscriptions: Map<string, 0 | 1 | 2> = new LazyMap();

  constructor(
    private readonly owner: TransparentUpstream,
    private options: UpstreamSessionOptions,
    private readonly sink: UpstreamSink,
    private readonly log: Log,
  ) {
    void owner.after(options.clientId).then(() => {
      if (this.state === "waiting") this.connect();
    });
  }

  get current(): UpstreamConnectionState | "closed" | "failed" {
    return this.state;
  }

  private connect(): void {
    if (this.state === "waiting") this.state = "connecting";
    const restore = this.options.cleanSession && this.state === "replacing" ? new Map(this.subscriptions) : undefined;
    const connection: MqttConnection = new MqttConnection(this.owner.connectionOptions(this.options), {
      connack: (returnCode) => {
        if (connection !== this.connection) return;
        if (returnCode !== 0) {
          this.fail();
          this.sink.connack(false, true);
          return;
        }
        if (restore !== undefined && restore.size > 0) {
          const filters = [...restore].map(([topic, qos]) => ({ topic, qos }));
          connection.subscribe(filters, () => this.opened(connection));
        } else {
          this.opened(connection);
        }
      },
      message: (topic, payload, qos, retain, dup, messageId) => {
        if (connection !== this.connection) return;
        const ack = qos === 0 ? undefined : () => connection.acknowledge(messageId);
        this.sink.message(topic, payload, qos, retain, ack, messageId, dup);
      },
      closed: (error, wasOpen) => {
        if (connection !== this.connection) return;
        this.log.debug("upstream-closed", { clientId: this.options.clientId, error: error?.message, wasOpen });
        const answered = this.state === "open";
        this.fail();
        if (answered) this.sink.closed();
        else this.sink.connack(false, false);
      },
    });
    this.connection = connection;
    connection.start();
  }

  private opened(connection: MqttConnection): void {
    if (connection !== this.connection || (this.state !== "connecting" && this.state !== "replacing")) return;
    this.state = "open";
    const ops = this.waitingOps;
    this.waitingOps = [];
    this.sink.connack(true, false);
    for (const op of ops) op(connection);
  }

  private fail(): void {
    this.state = "failed";
    this.connection = undefined;
    this.owner.forget(this);
    this.failWaiting();
  }

  private failWaiting(): void {
    const ops = this.waitingOps;
    this.waitingOps = [];
    for (const op of ops) op(undefined as unknown as MqttConnection);
  }

  /** Runs op on the open connection, keeps it until the connection is open, or runs it with none (it then reports failure). */
  private whenOpen(op: (c: MqttConnection | undefined) => void): void {
    if (this.state === "open" && this.connection !== undefined) op(this.connection);
    else if (
      (this.state === "waiting" || this.state === "connecting" || this.state === "replacing") &&
      this.waitingOps.length < MAX_WAITING_OPERATIONS
    )
      this.waitingOps.push(op as Operation);
    else op(undefined);
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean, msgId: number): boolean {
    if (qos === 0) {
      if (this.state === "open" && this.connection !== undefined)
        return this.connection.publish(topic, payload, 0, retain);
      if (this.state === "closed" || this.state === "failed" || this.waitingOps.length >= MAX_WAITING_OPERATIONS)
        return false;
      const copy = new Uint8Array(payload);
      this.waitingOps.push((c) => {
        if (c !== undefined) c.publish(topic, copy, 0, retain);
      });
      return true;
    }
    const copy = this.state === "open" ? payload : new Uint8Array(payload);
    this.whenOpen((c) => {
      const sent = c !== undefined && c.publish(topic, copy, qos, retain, (ok) => this.sink.published(msgId, ok));
      if (!sent) this.sink.published(msgId, false);
    });
    return true;
  }

  subscribe(filter: string, qos: 0 | 1 | 2, msgId: number): void {
    this.whenOpen((c) => {
      if (c === undefined) {
        this.sink.subAck(msgId, 0x80);
        return;
      }
      c.subscribe([{ topic: filter, qos }], (granted) => {
        const g = granted[0] ?? 0x80;
        if (g <= 2) this.subscriptions.set(filter, g as 0 | 1 | 2);
        this.sink.subAck(msgId, g);
      });
    });
  }

  unsubscribe(filter: string, msgId: number): void {
    this.subscriptions.delete(filter);
    this.whenOpen((c) => {
      if (c === undefined) this.sink.unsubAck(msgId);
      else c.unsubscribe([filter], () => this.sink.unsubAck(msgId));
    });
  }

  replace(will: Will | undefined): void {
    this.options = { ...this.options, will };
    if (this.state === "closed" || this.state === "failed") {
      this.sink.connack(false, false);
      return;
    }
    if (this.state === "waiting") return; // not connected yet: it will CONNECT with the new will
    const old = this.connection;
    this.connection = undefined;
    this.state = "replacing";
    if (old !== undefined) this.owner.closingNow(this.options.clientId, old.close(true));
    void this.owner.after(this.options.clientId).then(() => {
      if (this.state === "replacing" && this.connection === undefined) this.connect();
    });
  }

  close(graceful: boolean, after?: Promise<void>): Promise<void> {
    if (this.state === "closed") return Promise.resolve();
    const connection = this.connection;
    this.state = "closed";
    this.connection = undefined;
    this.owner.forget(this);
    this.failWaiting();
    if (connection === undefined) return Promise.resolve();
    const closed = after === undefined ? connection.close(graceful) : after.then(() => connection.close(graceful));
    this.owner.closingNow(this.options.clientId, closed);
    return closed;
  }
}
