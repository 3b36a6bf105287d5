import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { Log } from "../../transports/link";
import type { Will } from "../session/types";
import type { Upstream, UpstreamSession, UpstreamSessionOptions, UpstreamSink } from "./upstream";

export interface TransparentOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  connectTimeoutMs: number;
  /** Client id of the gateway's own connection for QoS -1 publishes. */
  gatewayClientId: string;
  log: Log;
}

const noop = (): void => {};
/** mqtt.js copies publish options, so these can be shared instead of allocated per message. */
const QOS0 = Object.freeze({ qos: 0 as const, retain: false });
const QOS0_RETAIN = Object.freeze({ qos: 0 as const, retain: true });

/** Octets waiting to be written to one broker connection beyond which QoS 0 publishes are dropped (counted). */
const MAX_BUFFERED_OCTETS = 1024 * 1024;

/**
 * Write coalescing: the first publish on a connection in an event-loop turn corks its socket, and one
 * setImmediate for the whole gateway uncorks them all after the turn's datagrams were read. Under load
 * many publishes share one writev instead of a system call each; when idle a message waits one turn.
 */
const corked = new Set<NodeJS.WritableStream & { cork(): void; uncork(): void }>();
let uncorkScheduled = false;
function uncorkAll(): void {
  uncorkScheduled = false;
  for (const stream of corked) stream.uncork();
  corked.clear();
}
function cork(client: MqttClient): void {
  const stream = client.stream as unknown as (NodeJS.WritableStream & { cork?(): void; uncork(): void }) | undefined;
  if (stream === undefined || typeof stream.cork !== "function" || corked.has(stream as never)) return;
  stream.cork();
  corked.add(stream as never);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    setImmediate(uncorkAll);
  }
}

/** Ends an mqtt.js client; settles when it has closed, or after CLOSE_WAIT_MS whatever happens. */
const CLOSE_WAIT_MS = 2000;
function endWithin(client: MqttClient, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CLOSE_WAIT_MS);
    timer.unref();
    client.end(force, {}, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Delayed acknowledgement of a broker → client message: PUBACK (QoS 1) or PUBCOMP (QoS 2) goes to the
 * broker once the MQTT-SN client has the message, so the broker keeps it until then. mqtt.js ties the
 * acknowledgement to its handleMessage callback, which also holds back every later incoming packet
 * (PINGRESP included, so its keep-alive would fail); the adapter therefore releases the callback at once
 * with HELD and sends the acknowledgement itself through mqtt.js's own internal packet path.
 */
const HELD = new Error("acknowledgement held until the MQTT-SN client has the message");
interface MqttInternals {
  _sendPacket(packet: { cmd: "puback" | "pubcomp"; messageId: number }, cb?: () => void): void;
  _releaseIncomingQoS2Publish?(messageId: number): void;
  incomingStore: { del(packet: object, cb: () => void): void };
}
function acknowledge(client: MqttClient, packet: { qos: number; messageId?: number | undefined }): void {
  if (!client.connected || packet.messageId === undefined) return;
  const internals = client as unknown as MqttInternals;
  if (packet.qos === 1) {
    internals._sendPacket({ cmd: "puback", messageId: packet.messageId });
    return;
  }
  internals.incomingStore.del(packet, noop);
  if (internals._releaseIncomingQoS2Publish !== undefined) internals._releaseIncomingQoS2Publish(packet.messageId);
  internals._sendPacket({ cmd: "pubcomp", messageId: packet.messageId });
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Transparent mode on mqtt.js: one MQTT connection per MQTT-SN client, same client id, clean session,
 * keep-alive and will. mqtt.js never reconnects on its own (reconnectPeriod 0): the session decides.
 */
export class TransparentUpstream implements Upstream {
  private readonly sessions = new Set<TransparentSession>();
  private anonymous: MqttClient | undefined;

  constructor(private readonly options: TransparentOptions) {}

  clientOptions(o: UpstreamSessionOptions): IClientOptions {
    const opts: IClientOptions = {
      clientId: o.clientId,
      clean: o.cleanSession,
      keepalive: o.keepAlive,
      reconnectPeriod: 0,
      connectTimeout: this.options.connectTimeoutMs,
      protocolVersion: 4,
      rejectUnauthorized: this.options.rejectUnauthorized,
      resubscribe: false,
      // mqtt.js logs through `debug` on every packet unless given its own logger.
      log: noop,
    };
    if (this.options.username !== undefined) opts.username = this.options.username;
    if (this.options.password !== undefined) opts.password = this.options.password;
    if (this.options.ca !== undefined) opts.ca = this.options.ca;
    if (this.options.cert !== undefined) opts.cert = this.options.cert;
    if (this.options.key !== undefined) opts.key = this.options.key;
    if (o.will !== undefined) {
      opts.will = { topic: o.will.topic, payload: toBuffer(o.will.payload), qos: o.will.qos, retain: o.will.retain };
    }
    return opts;
  }

  open(options: UpstreamSessionOptions, sink: UpstreamSink, after?: Promise<void>): UpstreamSession {
    const session = new TransparentSession(this, options, sink, this.options.log, after);
    this.sessions.add(session);
    return session;
  }

  forget(session: TransparentSession): void {
    this.sessions.delete(session);
  }

  get url(): string {
    return this.options.url;
  }

  publishAnonymous(topic: string, payload: Uint8Array, retain: boolean): void {
    if (this.anonymous === undefined) {
      this.anonymous = mqtt.connect(this.options.url, {
        ...this.clientOptions({
          clientId: this.options.gatewayClientId,
          cleanSession: true,
          keepAlive: 60,
          will: undefined,
        }),
        reconnectPeriod: 5000,
      });
      this.anonymous.on("error", (err) =>
        this.options.log.warn("upstream-error", { clientId: this.options.gatewayClientId, error: err.message }),
      );
    }
    this.anonymous.publish(topic, toBuffer(payload), { qos: 0, retain });
  }

  async close(): Promise<void> {
    const all = [...this.sessions].map((s) => s.closeAndWait());
    if (this.anonymous !== undefined) {
      const a = this.anonymous;
      all.push(endWithin(a, !a.connected));
    }
    await Promise.all(all);
  }
}

class TransparentSession implements UpstreamSession {
  private client: MqttClient;
  private connected = false;
  private closing = false;
  /** Subscriptions made, restored when the connection is replaced for a will update on a clean session. */
  private readonly subscriptions = new Map<string, 0 | 1 | 2>();

  constructor(
    private readonly owner: TransparentUpstream,
    private options: UpstreamSessionOptions,
    private readonly sink: UpstreamSink,
    private readonly log: Log,
    after?: Promise<void>,
  ) {
    this.client = this.connect(options, undefined, after);
  }

  /** Creates the mqtt.js client; it sends CONNECT at once, or once `after` has settled. Publishes made meanwhile are queued by mqtt.js. */
  private connect(
    options: UpstreamSessionOptions,
    restore?: Map<string, 0 | 1 | 2>,
    after?: Promise<void>,
  ): MqttClient {
    const client = mqtt.connect(this.owner.url, {
      ...this.owner.clientOptions(options),
      manualConnect: after !== undefined,
    });
    if (after !== undefined) {
      void after.then(() => {
        if (client === this.client && !this.closing) client.connect();
      });
    }
    let answered = false;
    this.connected = false;
    // QoS 2 is handed over when its PUBLISH arrives (MQTT 3.1.1 §4.3.3, method A), not at PUBREL where
    // mqtt.js hands it over, so messages of every QoS keep the order the broker sent them in (sleeping
    // clients get them in that order). A PUBLISH resent before PUBREL is answered, not handed over again;
    // PUBCOMP goes once both the PUBREL has come and the client has the message.
    const qos2 = new Map<
      number,
      { released: boolean; delivered: boolean; packet: { qos: number; messageId?: number | undefined } }
    >();
    const completeQoS2 = (id: number): void => {
      const entry = qos2.get(id);
      if (entry === undefined || !entry.released || !entry.delivered) return;
      qos2.delete(id);
      acknowledge(client, entry.packet);
    };
    client.options.customHandleAcks = (_topic, _message, packet, callback) => {
      const id = packet.messageId;
      if (packet.qos === 2 && id !== undefined && !qos2.has(id)) {
        qos2.set(id, { released: false, delivered: false, packet });
        const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
        this.sink.message(packet.topic, payload, 2, packet.retain, () => {
          const entry = qos2.get(id);
          if (entry !== undefined) entry.delivered = true;
          completeQoS2(id);
        });
      }
      callback(0);
    };
    client.handleMessage = (packet, done) => {
      const qos = packet.qos;
      if (qos === 2) {
        // PUBREL: handed over when its PUBLISH arrived.
        const id = packet.messageId;
        const entry = id === undefined ? undefined : qos2.get(id);
        if (entry !== undefined && id !== undefined) {
          entry.released = true;
          entry.packet = packet;
          completeQoS2(id);
        } else {
          acknowledge(client, packet);
        }
        done(HELD);
        return;
      }
      const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
      if (qos === 0) {
        this.sink.message(packet.topic, payload, 0, packet.retain, undefined);
        done();
        return;
      }
      this.sink.message(packet.topic, payload, qos, packet.retain, () => acknowledge(client, packet));
      // Passing an error makes mqtt.js go on with the next incoming packet without acknowledging this one.
      done(HELD);
    };
    client.on("connect", () => {
      if (client !== this.client) return;
      this.connected = true;
      answered = true;
      if (restore !== undefined && restore.size > 0) {
        const topics: Record<string, { qos: 0 | 1 | 2 }> = {};
        for (const [filter, qos] of restore) topics[filter] = { qos };
        client.subscribe(topics, () => this.sink.connack(true, false));
      } else {
        this.sink.connack(true, false);
      }
    });
    client.on("error", (err: Error & { code?: unknown }) => {
      if (client !== this.client) return;
      this.log.debug("upstream-error", { clientId: options.clientId, error: err.message });
      if (!answered && typeof err.code === "number") {
        answered = true;
        this.sink.connack(false, true);
      }
    });
    client.on("close", () => {
      if (client !== this.client || this.closing) return;
      if (!answered) {
        answered = true;
        this.sink.connack(false, false);
      } else if (this.connected) {
        this.connected = false;
        this.closing = true;
        this.owner.forget(this);
        this.sink.closed();
      }
      client.end(true);
    });
    return client;
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean, msgId: number): boolean {
    if (this.connected) cork(this.client);
    if (qos === 0) {
      const stream = this.client.stream as unknown as { writableLength?: number } | undefined;
      if (stream !== undefined && (stream.writableLength ?? 0) > MAX_BUFFERED_OCTETS) return false;
      this.client.publish(topic, toBuffer(payload), retain ? QOS0_RETAIN : QOS0);
      return true;
    }
    this.client.publish(topic, toBuffer(payload), { qos, retain }, (err) =>
      this.sink.published(msgId, err === undefined || err === null),
    );
    return true;
  }

  subscribe(filter: string, qos: 0 | 1 | 2, msgId: number): void {
    this.client.subscribe(filter, { qos }, (err, granted) => {
      const g = err ? 128 : granted !== undefined && granted[0] !== undefined ? granted[0].qos : 128;
      if (g <= 2) this.subscriptions.set(filter, g as 0 | 1 | 2);
      this.sink.subAck(msgId, g);
    });
  }

  unsubscribe(filter: string, msgId: number): void {
    this.subscriptions.delete(filter);
    this.client.unsubscribe(filter, () => this.sink.unsubAck(msgId));
  }

  /**
   * MQTT 3.1.1 (and 5) cannot change a will on a live connection: DISCONNECT the old connection (the
   * broker discards its will), CONNECT again with the new will. A persistent session keeps its
   * subscriptions at the broker; a clean one gets them back from the list kept here.
   */
  replaceWill(will: Will | undefined): void {
    const old = this.client;
    this.options = { ...this.options, will };
    const oldClosed = endWithin(old, !old.connected);
    this.client = this.connect(
      this.options,
      this.options.cleanSession ? new Map(this.subscriptions) : undefined,
      oldClosed,
    );
  }

  close(graceful: boolean): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    this.owner.forget(this);
    // end(true) destroys the socket without DISCONNECT, so the broker publishes the will.
    const client = this.client;
    return endWithin(client, !graceful || !client.connected);
  }

  closeAndWait(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    this.owner.forget(this);
    return endWithin(this.client, !this.client.connected);
  }
}
