import type { Will } from "../../../gateway/session/types";
import type { BrokerSide, Connection, FakeSession, FakeUpstream } from "./fake-upstream";

/** How the broker answers a CONNECT: accepted, refused (CONNACK return code ≠ 0), or never reached. */
export type ConnectAnswer = "ok" | "refused" | "unreachable";

/** A QoS 1/2 message of one client's session at the broker, not yet acknowledged by that client. */
export interface Unacknowledged {
  key: string;
  topic: string;
  payload: Uint8Array;
  qos: 1 | 2;
}

/** One MQTT session at the broker (MQTT 3.1.1 §3.1.2.4): subscriptions and what the client still owes. */
interface BrokerSession {
  persistent: boolean;
  subscriptions: Map<string, 0 | 1 | 2>;
  /** Sent on the open connection or waiting for one, oldest first; sent again on each new connection. */
  unacknowledged: Unacknowledged[];
  connection: BrokerConnection | undefined;
}

export interface BrokerConnection extends Connection {
  id: number;
  clientId: string;
  cleanSession: boolean;
  will: Will | undefined;
  state: "connecting" | "open" | "closed";
  /** The broker accepted its CONNECT at some point. */
  accepted: boolean;
  owner: FakeUpstream;
  adapter: FakeSession;
}

/** Where a message went: one record per client session it was queued for. */
export interface Queued {
  clientId: string;
  key: string;
  qos: 0 | 1 | 2;
  /** Queued for a persistent session (CleanSession 0), which keeps it across connections. */
  persistent: boolean;
}

const utf8 = new TextEncoder();

function matches(filter: string, topic: string): boolean {
  if (filter === topic || filter === "#") return true;
  if (!filter.endsWith("/#")) return false;
  const prefix = filter.slice(0, -2);
  return topic === prefix || topic.startsWith(prefix + "/");
}

/**
 * A broker that keeps MQTT 3.1.1 sessions for the client ids the gateway connects, across gateway
 * processes: a CleanSession 0 session keeps its subscriptions and every QoS 1/2 message its client has
 * not acknowledged, and sends those again, in order, after the CONNACK of the next connection of that
 * client id (§4.4); a CleanSession 1 CONNECT discards the session, and a clean session ends with its
 * connection. The acknowledgement of a message received on a connection that has closed never reaches
 * the broker. QoS 2 is reduced to one acknowledgement (the adapter's PUBREC/PUBREL/PUBCOMP exchange with
 * the broker is not modelled). CONNACKs wait until the test answers them; SUBACKs and PUBACKs for the
 * gateway's own publishes arrive when the test lets the network run (runNetwork).
 */
export class FakeBroker implements BrokerSide {
  private readonly sessions = new Map<string, BrokerSession>();
  readonly connections: BrokerConnection[] = [];
  /** Keys of the messages acknowledged by the gateway on an open connection. */
  readonly acknowledged = new Set<string>();
  /** An acknowledgement function called more than once: the gateway released one custody twice. */
  doubleAcks = 0;
  /** Wills published (a connection dropped without DISCONNECT), as "clientId topic". */
  readonly wills: string[] = [];
  takeovers = 0;
  /** Called with the keys of unacknowledged messages a clean session discarded. */
  onDiscarded: (keys: string[]) => void = () => undefined;
  /** What happened to each message, for failure reports. */
  readonly history = new Map<string, string[]>();
  private readonly network: Array<{ owner: FakeUpstream; run: () => void }> = [];
  private readonly answerAtOnce = new Set<string>();
  private nextId = 1;

  /** The next CONNECT of this client id is answered "ok" while it is being sent (before open() returns). */
  answerNextAtOnce(clientId: string, on: boolean): void {
    if (on) this.answerAtOnce.add(clientId);
    else this.answerAtOnce.delete(clientId);
  }

  /** A persistent session this client id made before the test began, subscribed to `filters` at QoS 2. */
  seed(clientId: string, filters: readonly string[]): void {
    const subscriptions = new Map<string, 0 | 1 | 2>(filters.map((f) => [f, 2]));
    this.sessions.set(clientId, { persistent: true, subscriptions, unacknowledged: [], connection: undefined });
  }

  /** Connections of this client id whose CONNECT awaits an answer, oldest first. */
  connecting(clientId?: string): BrokerConnection[] {
    return this.connections.filter(
      (c) => c.state === "connecting" && (clientId === undefined || c.clientId === clientId),
    );
  }

  /** Messages of this client id the broker would send again on its next connection. */
  unacknowledged(clientId: string): Unacknowledged[] {
    const session = this.sessions.get(clientId);
    return session === undefined ? [] : [...session.unacknowledged];
  }

  // ---- called by FakeSession (the gateway's adapter) ----

  connect(
    adapter: FakeSession,
    owner: FakeUpstream,
    clientId: string,
    cleanSession: boolean,
    will: Will | undefined,
  ): BrokerConnection {
    const conn: BrokerConnection = {
      id: this.nextId++,
      clientId,
      cleanSession,
      will,
      state: "connecting",
      accepted: false,
      owner,
      adapter,
    };
    this.connections.push(conn);
    return conn;
  }

  /** Answers at once if the test asked for it; called by the adapter right after connect(). */
  connectSent(conn: BrokerConnection): void {
    if (!this.answerAtOnce.delete(conn.clientId)) return;
    this.answer(conn, "ok");
  }

  subscribe(conn: BrokerConnection, filter: string, qos: 0 | 1 | 2): void {
    const session = this.sessionOf(conn);
    if (session !== undefined) session.subscriptions.set(filter, qos);
  }

  unsubscribe(conn: BrokerConnection, filter: string): void {
    const session = this.sessionOf(conn);
    if (session !== undefined) session.subscriptions.delete(filter);
  }

  close(conn: BrokerConnection, graceful: boolean): void {
    if (conn.state === "closed") return;
    const wasOpen = conn.state === "open";
    conn.state = "closed";
    if (!wasOpen) return;
    if (!graceful && conn.will !== undefined) this.wills.push(`${conn.clientId} ${conn.will.topic}`);
    const session = this.sessions.get(conn.clientId);
    if (session === undefined || session.connection !== conn) return;
    session.connection = undefined;
    if (!session.persistent) this.discard(conn.clientId, session, "the clean session ended with its connection");
  }

  /** A later answer on the network (SUBACK, PUBACK): delivered by runNetwork, never to a dead process. */
  later(owner: FakeUpstream, run: () => void): void {
    this.network.push({ owner, run });
  }

  // ---- driven by the test ----

  /** Answers a CONNECT. */
  answer(conn: BrokerConnection, answer: ConnectAnswer): void {
    if (conn.state !== "connecting") return;
    if (answer !== "ok") {
      conn.state = "closed";
      conn.adapter.brokerAnswered(conn, answer);
      return;
    }
    let session = this.sessions.get(conn.clientId);
    const old = session?.connection;
    if (old !== undefined) {
      // §3.1.4: a second connection of a client id takes over; the broker closes the first.
      this.takeovers++;
      this.close(old, false);
      old.adapter.brokerClosed(old);
      session = this.sessions.get(conn.clientId);
    }
    if (conn.cleanSession || session === undefined || !session.persistent) {
      if (session !== undefined) this.discard(conn.clientId, session, "CONNECT with CleanSession 1");
      session = { persistent: !conn.cleanSession, subscriptions: new Map(), unacknowledged: [], connection: undefined };
      this.sessions.set(conn.clientId, session);
    }
    conn.state = "open";
    conn.accepted = true;
    session.connection = conn;
    conn.adapter.brokerAnswered(conn, "ok");
    // §4.4: what the client has not acknowledged is sent again after CONNACK, in order.
    for (const m of [...session.unacknowledged]) {
      if (session.connection !== conn || conn.state !== "open") break;
      this.send(conn, m, true);
    }
  }

  /** A publisher publishes: every session subscribed gets a copy at the lower of the two QoS levels. */
  publish(topic: string, qos: 0 | 1 | 2, keyFor: (clientId: string, qos: 0 | 1 | 2) => string): Queued[] {
    const queued: Queued[] = [];
    for (const [clientId, session] of this.sessions) {
      let granted = -1;
      for (const [filter, q] of session.subscriptions) if (matches(filter, topic)) granted = Math.max(granted, q);
      if (granted < 0) continue;
      const effective = Math.min(qos, granted) as 0 | 1 | 2;
      const key = keyFor(clientId, effective);
      const conn = session.connection;
      if (effective === 0) {
        if (conn !== undefined) conn.adapter.brokerMessage(conn, topic, utf8.encode(key), 0, undefined);
        continue;
      }
      const m: Unacknowledged = { key, topic, payload: utf8.encode(key), qos: effective };
      session.unacknowledged.push(m);
      queued.push({ clientId, key, qos: effective, persistent: session.persistent });
      this.note(key, `queued for ${clientId} (${session.persistent ? "persistent" : "clean"} session)`);
      if (conn !== undefined) this.send(conn, m, false);
    }
    return queued;
  }

  /** The broker drops this client id's connection (open or connecting) without being asked. */
  drop(clientId: string): boolean {
    const conn = [...this.connections].reverse().find((c) => c.clientId === clientId && c.state !== "closed");
    if (conn === undefined) return false;
    this.close(conn, false);
    conn.adapter.brokerClosed(conn);
    return true;
  }

  /** The gateway process behind `owner` was killed: its connections are gone (wills published), nobody is told. */
  crash(owner: FakeUpstream): void {
    owner.dead = true;
    for (const conn of this.connections) if (conn.owner === owner) this.close(conn, false);
    for (let i = this.network.length - 1; i >= 0; i--) if (this.network[i]?.owner === owner) this.network.splice(i, 1);
  }

  /** Delivers the answers the network holds; returns how many. */
  runNetwork(): number {
    let n = 0;
    for (let next = this.network.shift(); next !== undefined; next = this.network.shift()) {
      if (next.owner.dead) continue;
      next.run();
      n++;
    }
    return n;
  }

  private send(conn: BrokerConnection, m: Unacknowledged, again: boolean): void {
    let called = false;
    const ack = (): void => {
      if (called) {
        this.doubleAcks++;
        this.note(m.key, `acknowledged twice (connection ${conn.id})`);
        return;
      }
      called = true;
      if (conn.state !== "open") {
        this.note(m.key, `acknowledgement on closed connection ${conn.id} lost`);
        return;
      }
      const session = this.sessions.get(conn.clientId);
      if (session !== undefined) {
        const i = session.unacknowledged.findIndex((u) => u.key === m.key);
        if (i >= 0) session.unacknowledged.splice(i, 1);
      }
      this.acknowledged.add(m.key);
      this.note(m.key, `acknowledged on connection ${conn.id}`);
    };
    this.note(m.key, `${again ? "sent again" : "sent"} on connection ${conn.id}`);
    conn.adapter.brokerMessage(conn, m.topic, m.payload.slice(), m.qos, ack);
  }

  private sessionOf(conn: BrokerConnection): BrokerSession | undefined {
    const session = this.sessions.get(conn.clientId);
    return session !== undefined && session.connection === conn ? session : undefined;
  }

  private discard(clientId: string, session: BrokerSession, why: string): void {
    this.sessions.delete(clientId);
    const keys = session.unacknowledged.map((m) => m.key);
    for (const key of keys) this.note(key, `discarded by the broker: ${why}`);
    if (keys.length > 0) this.onDiscarded(keys);
  }

  note(key: string, what: string): void {
    const h = this.history.get(key) ?? [];
    h.push(what);
    this.history.set(key, h);
  }
}
