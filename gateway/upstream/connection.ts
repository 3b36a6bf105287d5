import { performance } from "node:perf_hooks";
import { connect as tcpConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from "node:tls";
import { generate, parser as newParser, type IPublishPacket, type Packet, type Parser } from "mqtt-packet";
import { IncomingAcks } from "./incoming-acks";
import { Outbox } from "./outbox";
import { PacketIds } from "./packet-ids";
import { flushAfterThisTurn, type Flushable } from "./write-coalescing";

/**
 * Where a connection stands. Before start() it is "closed" (like a TCP endpoint before it connects);
 * it ends "closed" when close() ended it, "failed" when anything else did (refused CONNACK, timeout,
 * socket error, keep-alive, malformed bytes, the broker closing it).
 */
export type ConnectionState = "connecting" | "open" | "closing" | "closed" | "failed";

export interface ConnectionOptions {
  /** mqtt://host:port or mqtts://host:port (TLS via node:tls with ca/cert/key/rejectUnauthorized). */
  url: string;
  clientId: string;
  clean: boolean;
  /** Seconds, 0 = none. */
  keepAlive: number;
  will?: { topic: string; payload: Uint8Array; qos: 0 | 1 | 2; retain: boolean } | undefined;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  /** CONNACK must arrive within this, else the connection fails. */
  connectTimeoutMs: number;
  /** QoS 0 publishes are refused (publish returns false) past this write backlog; default 1 MiB. */
  maxBufferedOctets?: number;
}

export interface ConnectionEvents {
  /** CONNACK arrived: returnCode 0 = accepted (state open), else refused (state failed, socket closed). */
  connack(returnCode: number, sessionPresent: boolean): void;
  /** An incoming PUBLISH. QoS 1/2: the broker waits until acknowledge(messageId) is called; nothing else waits. */
  message(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean, dup: boolean, messageId: number): void;
  /** Exactly once, when the socket is gone for any reason after start(); error is undefined after close(). wasOpen: a CONNACK 0 was received. */
  closed(error: Error | undefined, wasOpen: boolean): void;
}

const DEFAULT_MAX_BUFFERED_OCTETS = 1024 * 1024;
/** A graceful close waits this long for the broker to close the socket after DISCONNECT, then destroys it. */
const CLOSE_WAIT_MS = 2000;

/** What waits on an outgoing packet identifier. */
type Outgoing =
  | { kind: "publish"; qos: 1 | 2; pubrecReceived: boolean; done: ((ok: boolean) => void) | undefined }
  | { kind: "subscribe"; count: number; done: (granted: number[]) => void }
  | { kind: "unsubscribe"; done: (ok: boolean) => void };

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function refusals(count: number): number[] {
  return new Array<number>(count).fill(0x80);
}

/** Internal phases: the public states plus "idle", before start(), which reads as "closed". */
type Phase = ConnectionState | "idle";

/**
 * Every change of phase, from → allowed to. "failed" and "closed" are left only for themselves; the
 * socket may still be going away in them, and `closed` fires once it has.
 */
const NEXT: Record<Phase, readonly Phase[]> = {
  idle: ["connecting", "closed"],
  connecting: ["open", "closing", "failed"],
  open: ["closing", "failed"],
  closing: ["closed"],
  failed: ["failed"],
  closed: ["closed"],
};

/**
 * One MQTT 3.1.1 client connection to a broker, spoken through mqtt-packet, as an explicit state
 * machine (the NEXT table): start() → connecting; CONNACK 0 → open; close() → closing → closed once the
 * socket is gone; a refused CONNACK, the connect timeout, a socket error, keep-alive, malformed bytes or
 * the broker closing the socket → failed. Every operation is defined in every state and none throws.
 * Nothing reconnects: a connection is used once.
 *
 * The acknowledgement of an incoming QoS 1/2 PUBLISH is held until acknowledge(); every other packet
 * goes on being read meanwhile, so keep-alive and later messages never wait for it. When the socket is
 * gone, everything still waiting fails first (done(false), 0x80), then `closed` fires. An exception
 * thrown by an event handler while a packet is read ends the connection with that error.
 */
export class MqttConnection {
  private phase: Phase = "idle";
  private socket: Socket | undefined;
  private readonly parser: Parser = newParser({ protocolVersion: 4 });
  /** The first reason the connection ended, unless close() came first. */
  private cause: Error | undefined;
  private userClosed = false;
  private wasOpen = false;
  private gone = false;
  private readonly waiters: Array<() => void> = [];
  private readonly outgoing = new PacketIds<Outgoing>();
  private readonly incoming = new IncomingAcks();
  private connectTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  /** performance.now() when written packets last went to the socket; 0 = none since start. */
  private lastSentAt = 0;
  /** performance.now() of the PINGREQ awaiting an answer; 0 = none. */
  private pingSentAt = 0;
  /** What this event-loop turn wrote, sent as one socket write when the turn ends. */
  private readonly outbox = new Outbox();
  private flushScheduled = false;
  private readonly flusher: Flushable = { flush: () => this.flush() };
  private readonly maxBufferedOctets: number;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.maxBufferedOctets = options.maxBufferedOctets ?? DEFAULT_MAX_BUFFERED_OCTETS;
    this.parser.on("packet", (packet: Packet) => this.onPacket(packet));
    this.parser.on("error", (err: unknown) => this.fail(asError(err)));
  }

  get state(): ConnectionState {
    return this.phase === "idle" ? "closed" : this.phase;
  }

  /** Opens the socket and sends CONNECT (state "connecting"). Only the first call before close() does anything. */
  start(): void {
    if (this.phase !== "idle") return;
    this.moveTo("connecting");
    this.connectTimer = setTimeout(
      () => this.fail(new Error(`no CONNACK within ${this.options.connectTimeoutMs} ms`)),
      this.options.connectTimeoutMs,
    );
    this.connectTimer.unref();
    let socket: Socket;
    try {
      socket = this.openSocket();
    } catch (e) {
      // A bad URL or port: there is no socket to wait for, so the connection ends on the next turn.
      this.fail(asError(e));
      setImmediate(() => this.finish());
      return;
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err: Error) => this.fail(err));
    socket.once("close", () => this.finish());
    try {
      this.queue(generate(this.connectPacket()));
    } catch (e) {
      this.fail(new Error(`CONNECT cannot be encoded: ${asError(e).message}`));
    }
  }

  /**
   * QoS 0: returns false (nothing sent) when not open or the write backlog is past maxBufferedOctets.
   * QoS 1/2: returns false when not open or all 65535 packet identifiers are in use; otherwise done(true)
   * at PUBACK / PUBCOMP, done(false) if the connection ends first. done is never called when false is returned.
   */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean, done?: (ok: boolean) => void): boolean {
    if (this.phase !== "open") return false;
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return false;
    if (qos === 0) {
      if (socket.writableLength + this.outbox.length > this.maxBufferedOctets) return false;
      return this.written(this.outbox.publish(topic, payload, 0, retain, false, 0));
    }
    const messageId = this.outgoing.add({ kind: "publish", qos, pubrecReceived: false, done });
    if (messageId === 0) return false;
    if (this.written(this.outbox.publish(topic, payload, qos, retain, false, messageId))) return true;
    this.outgoing.take(messageId);
    return false;
  }

  /** done(granted) with the granted QoS or 0x80 per filter; all 0x80 if the connection ends first or it is not open. */
  subscribe(filters: Array<{ topic: string; qos: 0 | 1 | 2 }>, done: (granted: number[]) => void): void {
    const messageId =
      this.phase === "open" && filters.length > 0
        ? this.outgoing.add({ kind: "subscribe", count: filters.length, done })
        : 0;
    if (messageId !== 0) {
      const subscriptions = filters.map((f) => ({ topic: f.topic, qos: f.qos }));
      if (this.send({ cmd: "subscribe", messageId, subscriptions })) return;
      this.outgoing.take(messageId);
    }
    queueMicrotask(() => done(refusals(filters.length)));
  }

  /** done(true) at UNSUBACK; done(false) if the connection ends first or it is not open. */
  unsubscribe(filters: string[], done: (ok: boolean) => void): void {
    const messageId =
      this.phase === "open" && filters.length > 0 ? this.outgoing.add({ kind: "unsubscribe", done }) : 0;
    if (messageId !== 0) {
      if (this.send({ cmd: "unsubscribe", messageId, unsubscriptions: filters })) return;
      this.outgoing.take(messageId);
    }
    queueMicrotask(() => done(false));
  }

  /**
   * Releases the acknowledgement of an incoming QoS 1 (PUBACK, §4.3.2) or QoS 2 (PUBREC, then PUBCOMP
   * when PUBREL comes, §4.3.3) PUBLISH. A no-op when not open or unknown.
   */
  acknowledge(messageId: number): void {
    if (this.phase !== "open") return;
    const ack = this.incoming.release(messageId);
    if (ack !== undefined) this.send({ cmd: ack, messageId });
  }

  /**
   * Any state, any number of times, never throws. graceful: DISCONNECT first when open, so the broker
   * discards the will (§3.14.4); also while connecting, since the CONNECT may already be with the broker
   * and a client may send packets before CONNACK (§3.1.4), so a connection whose will the broker would
   * publish is never just dropped. Otherwise the socket is destroyed and the broker publishes the will
   * (§3.1.2.5). Resolves once the socket is closed (at once if it never opened).
   */
  close(graceful: boolean): Promise<void> {
    if (this.phase === "idle") {
      // Never started: nothing to close, and start() will do nothing.
      this.moveTo("closed");
      this.gone = true;
      return Promise.resolve();
    }
    if (this.gone) return Promise.resolve();
    const closed = new Promise<void>((resolve) => this.waiters.push(resolve));
    const socket = this.socket;
    if ((this.phase === "open" || this.phase === "connecting") && graceful && socket !== undefined) {
      this.userClosed = true;
      this.disconnect(socket);
    } else if (this.phase === "open" || this.phase === "connecting" || (this.phase === "closing" && !graceful)) {
      this.userClosed = true;
      if (this.phase !== "closing") this.moveTo("closing");
      socket?.destroy();
    }
    return closed;
  }

  /** DISCONNECT, then the socket ends; destroyed if the broker does not close it in time. */
  private disconnect(socket: Socket): void {
    this.moveTo("closing");
    this.send({ cmd: "disconnect" });
    this.flush();
    socket.end();
    this.closeTimer = setTimeout(() => socket.destroy(), CLOSE_WAIT_MS);
    this.closeTimer.unref();
  }

  private openSocket(): Socket {
    const url = new URL(this.options.url);
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const secure = url.protocol === "mqtts:" || url.protocol === "ssl:" || url.protocol === "tls:";
    if (!secure && url.protocol !== "mqtt:" && url.protocol !== "tcp:") {
      throw new Error(`unsupported broker URL scheme ${url.protocol} (mqtt: or mqtts:)`);
    }
    const port = url.port === "" ? (secure ? 8883 : 1883) : Number(url.port);
    if (!secure) return tcpConnect({ host, port });
    const tls: TlsOptions = { host, port, rejectUnauthorized: this.options.rejectUnauthorized ?? true };
    if (isIP(host) === 0) tls.servername = host;
    if (this.options.ca !== undefined) tls.ca = this.options.ca;
    if (this.options.cert !== undefined) tls.cert = this.options.cert;
    if (this.options.key !== undefined) tls.key = this.options.key;
    return tlsConnect(tls);
  }

  /** CONNECT for MQTT 3.1.1: protocol name "MQTT", level 4 (§3.1.2.1, §3.1.2.2). */
  private connectPacket(): Packet {
    const o = this.options;
    const packet: Packet = {
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: o.clientId,
      clean: o.clean,
      keepalive: o.keepAlive,
    };
    if (o.username !== undefined) packet.username = o.username;
    if (o.password !== undefined) packet.password = Buffer.from(o.password);
    if (o.will !== undefined) {
      packet.will = { topic: o.will.topic, payload: toBuffer(o.will.payload), qos: o.will.qos, retain: o.will.retain };
    }
    return packet;
  }

  /** Encodes and writes one packet; false when it cannot be encoded or the socket is gone. */
  private send(packet: Packet): boolean {
    if (this.socket === undefined || this.socket.destroyed) return false;
    let bytes: Buffer;
    try {
      bytes = generate(packet);
    } catch {
      return false;
    }
    this.queue(bytes);
    return true;
  }

  private queue(bytes: Buffer): void {
    this.outbox.append(bytes);
    this.written(true);
  }

  /** After a packet went into the outbox (`ok`): its socket write is due when this event-loop turn ends. */
  private written(ok: boolean): boolean {
    if (ok && !this.flushScheduled) {
      this.flushScheduled = true;
      flushAfterThisTurn(this.flusher);
    }
    return ok;
  }

  private flush(): void {
    this.flushScheduled = false;
    const bytes = this.outbox.take();
    const socket = this.socket;
    if (bytes === undefined || socket === undefined || socket.destroyed) return;
    this.lastSentAt = performance.now();
    socket.write(bytes);
  }

  private onData(chunk: Buffer): void {
    if (this.phase !== "connecting" && this.phase !== "open") return;
    try {
      this.parser.parse(chunk);
    } catch (e) {
      this.fail(asError(e));
    }
  }

  private onPacket(packet: Packet): void {
    if (this.phase === "connecting") {
      // The first packet from the server must be CONNACK (§3.2).
      if (packet.cmd === "connack") this.onConnack(packet.returnCode ?? 0, packet.sessionPresent);
      else this.fail(new Error(`${packet.cmd} from the broker before CONNACK`));
      return;
    }
    if (this.phase !== "open") return;
    // Any packet answers an outstanding PINGREQ: the broker is alive (§3.1.2.10).
    this.pingSentAt = 0;
    switch (packet.cmd) {
      case "publish":
        this.onPublish(packet);
        return;
      case "puback":
        this.onPuback(packet.messageId ?? 0);
        return;
      case "pubrec":
        this.onPubrec(packet.messageId ?? 0);
        return;
      case "pubcomp":
        this.onPubcomp(packet.messageId ?? 0);
        return;
      case "pubrel":
        // §4.3.3: PUBCOMP answers PUBREL and the identifier is forgotten.
        if (this.incoming.pubrel(packet.messageId ?? 0))
          this.send({ cmd: "pubcomp", messageId: packet.messageId ?? 0 });
        return;
      case "suback":
        this.onSuback(packet.messageId ?? 0, packet.granted);
        return;
      case "unsuback":
        this.onUnsuback(packet.messageId ?? 0);
        return;
      case "pingresp":
        return;
      default:
        this.fail(new Error(`unexpected ${packet.cmd} from the broker`));
    }
  }

  /** §3.2.2.3: return code 0 accepts the connection; any other refuses it and the server closes it. */
  private onConnack(returnCode: number, sessionPresent: boolean): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    if (returnCode === 0) {
      this.moveTo("open");
      this.wasOpen = true;
      this.keepAliveCheck();
    } else {
      this.fail(new Error(`the broker refused the connection: CONNACK return code ${returnCode}`));
    }
    this.events.connack(returnCode, sessionPresent);
  }

  private onPublish(packet: IPublishPacket): void {
    const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
    if (packet.qos === 0) {
      this.events.message(packet.topic, payload, 0, packet.retain, packet.dup, 0);
      return;
    }
    const messageId = packet.messageId ?? 0;
    if (messageId === 0) {
      // §2.3.1: a QoS 1/2 PUBLISH carries a non-zero packet identifier.
      this.fail(new Error(`QoS ${packet.qos} PUBLISH from the broker without a packet identifier`));
      return;
    }
    const arrival = this.incoming.arrived(messageId, packet.qos);
    if (arrival === "deliver") {
      this.events.message(packet.topic, payload, packet.qos, packet.retain, packet.dup, messageId);
    } else if (arrival === "pubrec") {
      this.send({ cmd: "pubrec", messageId });
    }
  }

  /** §4.3.2: PUBACK ends a QoS 1 PUBLISH. */
  private onPuback(messageId: number): void {
    const entry = this.outgoing.get(messageId);
    if (entry === undefined || entry.kind !== "publish" || entry.qos !== 1) return;
    this.outgoing.take(messageId);
    if (entry.done !== undefined) entry.done(true);
  }

  /** §4.3.3: PUBREC of a QoS 2 PUBLISH is answered with PUBREL (again, if PUBREC comes again). */
  private onPubrec(messageId: number): void {
    const entry = this.outgoing.get(messageId);
    if (entry === undefined || entry.kind !== "publish" || entry.qos !== 2) return;
    entry.pubrecReceived = true;
    this.send({ cmd: "pubrel", messageId });
  }

  /** §4.3.3: PUBCOMP ends a QoS 2 PUBLISH and frees its identifier. */
  private onPubcomp(messageId: number): void {
    const entry = this.outgoing.get(messageId);
    if (entry === undefined || entry.kind !== "publish" || !entry.pubrecReceived) return;
    this.outgoing.take(messageId);
    if (entry.done !== undefined) entry.done(true);
  }

  /** §3.9.3: one return code per requested filter, in order: the granted QoS or 0x80. */
  private onSuback(messageId: number, granted: number[] | object[]): void {
    const entry = this.outgoing.get(messageId);
    if (entry === undefined || entry.kind !== "subscribe") return;
    this.outgoing.take(messageId);
    const codes = granted.map((g) => (typeof g === "number" ? g : 0x80));
    while (codes.length < entry.count) codes.push(0x80);
    entry.done(codes.slice(0, entry.count));
  }

  private onUnsuback(messageId: number): void {
    const entry = this.outgoing.get(messageId);
    if (entry === undefined || entry.kind !== "unsubscribe") return;
    this.outgoing.take(messageId);
    entry.done(true);
  }

  /**
   * §3.1.2.10: a PINGREQ when nothing was sent for keepAlive seconds; when nothing at all comes back
   * within keepAlive seconds of it, the broker is taken as gone and the socket destroyed. One timer per
   * connection, re-armed for the next moment anything is due.
   */
  private keepAliveCheck(): void {
    this.keepAliveTimer = undefined;
    const seconds = this.options.keepAlive;
    if (seconds <= 0 || this.phase !== "open") return;
    const period = seconds * 1000;
    const now = performance.now();
    if (this.pingSentAt !== 0 && now - this.pingSentAt >= period) {
      this.fail(new Error(`no answer from the broker within ${seconds} s of PINGREQ`));
      return;
    }
    if (this.pingSentAt === 0 && now - this.lastSentAt >= period) {
      this.send({ cmd: "pingreq" });
      this.pingSentAt = now;
      this.lastSentAt = now;
    }
    const due = this.pingSentAt !== 0 ? this.pingSentAt + period : this.lastSentAt + period;
    this.keepAliveTimer = setTimeout(() => this.keepAliveCheck(), Math.max(1, Math.ceil(due - now)));
    this.keepAliveTimer.unref();
  }

  /** The one place the phase changes; a change the NEXT table does not allow is a programming error. */
  private moveTo(next: Phase): void {
    if (!NEXT[this.phase].includes(next)) throw new Error(`MqttConnection: no way from ${this.phase} to ${next}`);
    this.phase = next;
  }

  /** Ends the connection for `error` unless close() came first; the socket's close event finishes it. */
  private fail(error: Error): void {
    if (this.gone) return;
    if (!this.userClosed && this.cause === undefined) this.cause = error;
    if (this.phase === "connecting" || this.phase === "open") this.moveTo("failed");
    this.socket?.destroy();
  }

  /** The socket is gone: every timer stops, everything waiting fails, `closed` fires once. */
  private finish(): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.keepAliveTimer);
    clearTimeout(this.closeTimer);
    this.connectTimer = this.keepAliveTimer = this.closeTimer = undefined;
    const error =
      this.cause ??
      (this.userClosed
        ? undefined
        : new Error(this.wasOpen ? "the broker closed the connection" : "the connection closed before CONNACK"));
    this.moveTo(error === undefined ? "closed" : "failed");
    this.incoming.clear();
    this.parser.removeAllListeners();
    for (const entry of this.outgoing.takeAll()) {
      if (entry.kind === "subscribe") entry.done(refusals(entry.count));
      else if (entry.done !== undefined) entry.done(false);
    }
    this.events.closed(error, this.wasOpen);
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
