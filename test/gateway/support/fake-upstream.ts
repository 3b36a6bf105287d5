import type { Will } from "../../../gateway/session/types";
import type {
  Upstream,
  UpstreamSession,
  UpstreamSessionOptions,
  UpstreamSink,
} from "../../../gateway/upstream/upstream";

/** A connection as the broker keeps it; the adapter only compares it and reads its state. */
export interface Connection {
  readonly id: number;
  state: "connecting" | "open" | "closed";
}

/** The broker as the adapter reaches it (FakeBroker): one CONNECT, SUBSCRIBE … per call. */
export interface BrokerSide {
  connect(
    adapter: FakeSession,
    owner: FakeUpstream,
    clientId: string,
    cleanSession: boolean,
    will: Will | undefined,
  ): Connection;
  connectSent(conn: Connection): void;
  subscribe(conn: Connection, filter: string, qos: 0 | 1 | 2): void;
  unsubscribe(conn: Connection, filter: string): void;
  close(conn: Connection, graceful: boolean): void;
  later(owner: FakeUpstream, run: () => void): void;
}

type Operation = (conn: Connection | undefined) => void;

/**
 * One gateway process's Upstream, on the FakeBroker. Once the process is killed (dead) nothing it holds
 * reaches the broker or the gateway any more.
 */
export class FakeUpstream implements Upstream {
  dead = false;
  readonly sessions = new Set<FakeSession>();
  /** Client publishes forwarded upstream, "clientId topic qos". */
  readonly published: string[] = [];

  constructor(
    readonly broker: BrokerSide,
    readonly generation: number,
  ) {}

  open(options: UpstreamSessionOptions, sink: UpstreamSink): UpstreamSession {
    const session = new FakeSession(this, options, sink);
    this.sessions.add(session);
    return session;
  }

  publishAnonymous(topic: string): void {
    this.published.push(`(anonymous) ${topic} -1`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.close(true)));
  }
}

/**
 * One client's upstream session, with the states and rules of gateway/upstream/transparent.ts:
 *   connecting → open;  open ──replace──▶ replacing (old connection DISCONNECTed, new one connecting) → open
 *   any ──close──▶ closed;  connecting / replacing ──refused, unreachable──▶ failed;  open ──dropped──▶ failed
 * Operations made before the connection is open wait for it; once closed or failed they fail at once.
 * A clean session's subscriptions are made again on a replaced connection. What arrives on a connection
 * that is no longer this session's is ignored.
 */
export class FakeSession implements UpstreamSession {
  state: "connecting" | "open" | "replacing" | "closed" | "failed" = "connecting";
  conn: Connection | undefined;
  private waiting: Operation[] = [];
  private readonly subscriptions = new Map<string, 0 | 1 | 2>();

  constructor(
    private readonly owner: FakeUpstream,
    private options: UpstreamSessionOptions,
    private readonly sink: UpstreamSink,
  ) {
    this.connect();
  }

  get clientId(): string {
    return this.options.clientId;
  }

  private connect(): void {
    const o = this.options;
    const conn = this.owner.broker.connect(this, this.owner, o.clientId, o.cleanSession, o.will);
    this.conn = conn;
    this.owner.broker.connectSent(conn);
  }

  brokerAnswered(conn: Connection, answer: "ok" | "refused" | "unreachable"): void {
    if (conn !== this.conn || this.owner.dead) return;
    if (answer !== "ok") {
      this.fail();
      this.sink.connack(false, answer === "refused");
      return;
    }
    if (this.options.cleanSession && this.state === "replacing")
      for (const [filter, qos] of this.subscriptions) this.owner.broker.subscribe(conn, filter, qos);
    this.state = "open";
    const ops = this.waiting;
    this.waiting = [];
    this.sink.connack(true, false);
    for (const op of ops) op(conn);
  }

  brokerMessage(
    conn: Connection,
    topic: string,
    payload: Uint8Array,
    qos: 0 | 1 | 2,
    ack: (() => void) | undefined,
  ): void {
    if (conn !== this.conn || this.owner.dead) return;
    this.sink.message(topic, payload, qos, false, ack);
  }

  brokerClosed(conn: Connection): void {
    if (conn !== this.conn || this.owner.dead) return;
    const answered = this.state === "open";
    this.fail();
    if (answered) this.sink.closed();
    else this.sink.connack(false, false);
  }

  private fail(): void {
    this.state = "failed";
    this.conn = undefined;
    this.owner.sessions.delete(this);
    this.failWaiting();
  }

  private failWaiting(): void {
    const ops = this.waiting;
    this.waiting = [];
    for (const op of ops) op(undefined);
  }

  private whenOpen(op: Operation): void {
    if (this.state === "open" && this.conn !== undefined) op(this.conn);
    else if (this.state === "connecting" || this.state === "replacing") this.waiting.push(op);
    else op(undefined);
  }

  /** An answer from the broker, later, on this connection only. */
  private later(conn: Connection, run: () => void): void {
    this.owner.broker.later(this.owner, () => {
      if (this.conn === conn && conn.state === "open") run();
    });
  }

  publish(topic: string, _payload: Uint8Array, qos: 0 | 1 | 2, _retain: boolean, msgId: number): boolean {
    if (qos === 0) {
      if (this.state === "closed" || this.state === "failed") return false;
      this.owner.published.push(`${this.clientId} ${topic} 0`);
      return true;
    }
    this.whenOpen((conn) => {
      if (conn === undefined) {
        this.sink.published(msgId, false);
        return;
      }
      this.owner.published.push(`${this.clientId} ${topic} ${qos}`);
      this.later(conn, () => this.sink.published(msgId, true));
    });
    return true;
  }

  subscribe(filter: string, qos: 0 | 1 | 2, msgId: number): void {
    this.whenOpen((conn) => {
      if (conn === undefined) {
        this.sink.subAck(msgId, 0x80);
        return;
      }
      this.owner.broker.subscribe(conn, filter, qos);
      this.later(conn, () => {
        this.subscriptions.set(filter, qos);
        this.sink.subAck(msgId, qos);
      });
    });
  }

  unsubscribe(filter: string, msgId: number): void {
    this.subscriptions.delete(filter);
    this.whenOpen((conn) => {
      if (conn === undefined) {
        this.sink.unsubAck(msgId);
        return;
      }
      this.owner.broker.unsubscribe(conn, filter);
      this.later(conn, () => this.sink.unsubAck(msgId));
    });
  }

  replace(will: Will | undefined): void {
    this.options = { ...this.options, will };
    if (this.state === "closed" || this.state === "failed") {
      this.sink.connack(false, false);
      return;
    }
    const old = this.conn;
    this.conn = undefined;
    this.state = "replacing";
    // MQTT cannot change a will on a live connection: DISCONNECT (the broker discards the old will), CONNECT again.
    if (old !== undefined) this.owner.broker.close(old, true);
    this.connect();
  }

  async close(graceful: boolean): Promise<void> {
    if (this.state === "closed") return;
    const conn = this.conn;
    this.state = "closed";
    this.conn = undefined;
    this.owner.sessions.delete(this);
    this.failWaiting();
    if (conn !== undefined) this.owner.broker.close(conn, graceful);
  }
}
