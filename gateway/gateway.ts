import { readFileSync } from "node:fs";
import {
  decode,
  DecodeErrorCode,
  encode,
  encodingLength,
  MsgType,
  ReturnCode,
  TopicIdType,
  type Bytes,
  type DecodeOptions,
  type Message,
  type Publish,
} from "../protocol";
import type { Link, Log } from "../transports/link";
import { streamLinks } from "../transports/stream-links";
import { UdpLink } from "../transports/udp";
import { startEmbeddedBroker, type EmbeddedBroker } from "./broker/embedded";
import { validateConfig, type GatewayConfig } from "./config";
import { advertise, gwInfo } from "./handlers/discovery";
import { limitsFor } from "./sleep/buffer";
import { wakeSource } from "./sleep/supervision";
import { isSleeping, restoreSleeping, takeOver, wouldHold } from "./sleep/transitions";
import { LazySessionStore, storePathExists } from "./store/lazy";
import { LevelSessionStore } from "./store/level";
import type { SessionStore, StoredSession } from "./store/session-store";
import { silentLog, throttled } from "./log";
import { transition } from "./session/lifecycle";
import { computeDeadline, step } from "./session/machine";
import { newSession } from "./session/session";
import { predefinedMaps, TopicTable } from "./session/topics";
import { newCounters, type Counters, type Delivery, type Effect, type Session, type SessionContext, type SessionEvent } from "./session/types";
import { TransparentUpstream } from "./upstream/transparent";
import type { Upstream, UpstreamSession, UpstreamSink } from "./upstream/upstream";

export interface GatewayOptions {
  /** Links built elsewhere (serial, BLE, test links), served next to the UDP listeners of the config. */
  links?: Link[];
  log?: Log;
  /** Replaces the mqtt.js transparent adapter (tests). */
  upstream?: Upstream;
  /** Clock, milliseconds. */
  now?: () => number;
  /** Replaces the LevelDB store of sleep.store.path (tests). */
  store?: SessionStore;
}

export interface RunningGateway {
  /** Every link served, UDP listeners first. */
  links: Link[];
  /** The bound UDP addresses, e.g. "127.0.0.1:40123", "[::]:1884". */
  udpAddresses: string[];
  /** The broker in use: the embedded broker's mqtt://127.0.0.1:PORT, or the configured URL. */
  brokerUrl: string;
  counters: Counters;
  /** Sessions currently known (connecting, connected or sleeping). */
  sessionCount(): number;
  /** Messages held for a sleeping client (0 for an unknown or awake one). */
  heldFor(clientId: string): number;
  /** The durable store of sleeping persistent sessions; undefined when sleep.store.path is "". */
  store: SessionStore | undefined;
  config: GatewayConfig;
  /** Ends every session (DISCONNECT to clients, MQTT DISCONNECT upstream: no wills), closes links and the embedded broker. */
  close(): Promise<void>;
}

/** A session plus the I/O it needs: its route back to the client and its upstream connection. */
interface Client {
  session: Session;
  link: Link;
  address: string;
  /** Forwarder encapsulation, §5.5: answers go back wrapped with this wireless node id. */
  nodeId: Bytes | undefined;
  upstream: UpstreamSession | undefined;
  ended: boolean;
  /** Topic filters subscribed upstream, kept with a sleeping persistent session for a restart. */
  subscriptions: Map<string, 0 | 1 | 2>;
  /** The client's record is in the durable store. */
  persisted: boolean;
  /** A message is being written to the store: later upstream messages wait in `backlog`, in arrival order. */
  writing: boolean;
  backlog: Array<() => void>;
}

function nodeKey(nodeId: Bytes): string {
  let hex = "";
  for (let i = 0; i < nodeId.length; i++) hex += ((nodeId[i] as number) + 0x100).toString(16).slice(1);
  return hex;
}

/** §6.1 ADVERTISE target of one UDP listener; "auto" broadcasts from IPv4 listeners that are not on loopback. */
function advertiseTargetFor(setting: string, host: string, port: number): string | undefined {
  if (setting === "") return undefined;
  if (setting !== "auto") return setting;
  if (host.includes(":") || host.startsWith("127.") || port === 0) return undefined;
  return `255.255.255.255:${port}`;
}

export async function startGateway(input: GatewayConfig | unknown, options: GatewayOptions = {}): Promise<RunningGateway> {
  const config = validateConfig(input ?? {});
  const log = throttled(options.log ?? silentLog);
  const now = options.now ?? Date.now;
  const counters = newCounters();
  const ctx: SessionContext = {
    maxTopicsPerClient: config.limits.maxTopicsPerClient,
    maxInflight: config.limits.maxInflight,
    maxMessageSize: config.limits.maxMessageSize,
    tRetryMs: config.timers.tRetryMs,
    nRetry: config.timers.nRetry,
    keepAliveGraceMs: config.timers.keepAliveGraceMs,
    willHandshakeTimeoutMs: config.timers.willHandshakeTimeoutMs,
    upstreamConnectTimeoutMs: config.timers.upstreamConnectTimeoutMs,
    sleep: { limitsFor: (clientId) => limitsFor(config.sleep, clientId), graceMs: config.sleep.graceMs },
    counters,
    log,
  };
  const decodeOptions: DecodeOptions = { maxClientIdLength: config.limits.maxClientIdLength };

  const allowAddressChange = new Set(config.sleep.allowAddressChange);
  // The store is opened at start when it holds sessions to resume, otherwise when a persistent client first sleeps.
  let store: SessionStore | undefined = options.store;
  let resume = store !== undefined;
  if (store === undefined && config.sleep.store.path !== "") {
    resume = storePathExists(config.sleep.store.path);
    store = new LazySessionStore(
      new LevelSessionStore(config.sleep.store.path, {
        maxMessages: config.sleep.store.maxMessages,
        maxBytes: config.sleep.store.maxBytes,
        maxSessions: config.sleep.store.maxSessions,
      }),
    );
  }
  if (store !== undefined && resume) {
    try {
      await store.open();
    } catch (err) {
      if ((err as { code?: unknown }).code !== "STORE_LOCKED") throw err;
      // Another gateway serves the sessions of this store; this one starts without them and tries again on first use.
      log.error("store-unavailable", { path: store.location, error: (err as Error).message });
      resume = false;
    }
  }

  let broker: EmbeddedBroker | undefined;
  let brokerUrl = config.broker;
  if (config.broker === "embedded") {
    try {
      broker = await startEmbeddedBroker(config.embeddedPort);
    } catch (err) {
      if (store !== undefined) await store.close();
      throw err;
    }
    brokerUrl = broker.url;
  }
  const readPem = (path: string | undefined): Buffer | undefined => (path === undefined ? undefined : readFileSync(path));
  const upstream: Upstream =
    options.upstream ??
    new TransparentUpstream({
      url: brokerUrl,
      ...(config.upstream.username !== undefined ? { username: config.upstream.username } : {}),
      ...(config.upstream.password !== undefined ? { password: config.upstream.password } : {}),
      ...(config.upstream.caFile !== undefined ? { ca: readPem(config.upstream.caFile) as Buffer } : {}),
      ...(config.upstream.certFile !== undefined ? { cert: readPem(config.upstream.certFile) as Buffer } : {}),
      ...(config.upstream.keyFile !== undefined ? { key: readPem(config.upstream.keyFile) as Buffer } : {}),
      rejectUnauthorized: config.upstream.rejectUnauthorized,
      connectTimeoutMs: config.timers.upstreamConnectTimeoutMs,
      gatewayClientId: `mqttsn-gateway-${config.gatewayId}-${process.pid}`,
      log,
    });

  const globalPredefined = predefinedMaps(config.predefinedTopics.global, undefined);
  const byLink = new Map<Link, Map<string, Client>>();
  const byClientId = new Map<string, Client>();
  let clientCount = 0;
  let shuttingDown = false;

  function sendTo(link: Link, address: string, nodeId: Bytes | undefined, message: Message): void {
    const wrapped: Message = nodeId === undefined ? message : { type: MsgType.Encapsulated, radius: 0, wirelessNodeId: nodeId, message };
    const frame = Buffer.allocUnsafe(encodingLength(wrapped));
    encode(wrapped, frame as unknown as Bytes, 0);
    link.send(address, frame);
  }

  /** Upstream connections still closing, by client id: a new connection of that id waits for it. */
  const upstreamClosing = new Map<string, Promise<void>>();
  function closeUpstream(clientId: string, u: UpstreamSession, graceful: boolean): void {
    const done = u.close(graceful);
    upstreamClosing.set(clientId, done);
    void done.then(() => {
      if (upstreamClosing.get(clientId) === done) upstreamClosing.delete(clientId);
    });
  }

  function forget(c: Client): void {
    if (c.ended) return;
    c.ended = true;
    const table = byLink.get(c.link);
    if (table !== undefined && table.get(c.session.key) === c) {
      table.delete(c.session.key);
      clientCount--;
    }
    if (byClientId.get(c.session.clientId) === c) byClientId.delete(c.session.clientId);
  }

  function sinkFor(c: Client): UpstreamSink {
    return {
      connack: (ok, refused) => run(c, { kind: "upConnack", ok, refused }),
      published: (msgId, ok) => run(c, { kind: "upPublished", msgId, ok }),
      subAck: (msgId, granted) => run(c, { kind: "upSubAck", msgId, granted }),
      unsubAck: (msgId) => run(c, { kind: "upUnsubAck", msgId }),
      message: (topic, payload, qos, retain, ack) => {
        if (payload.length + 7 > config.limits.maxMessageSize || payload.length + 7 > c.link.mtu) {
          counters.deliveriesDropped++;
          log.warn("delivery-dropped", { clientId: c.session.clientId, topic, reason: `message of ${payload.length} octets exceeds limits.maxMessageSize or the link MTU` });
          if (ack !== undefined) ack();
          return;
        }
        if (c.writing || c.backlog.length > 0) {
          if (c.backlog.length >= config.sleep.maxMessages + config.limits.maxInflight) {
            // Bounded: QoS 0 dropped and counted; QoS 1/2 left unacknowledged at the broker (upstream paused).
            if (qos === 0) counters.sleepDropped++;
            else run(c, { kind: "upMessage", delivery: { topic, payload, qos, retain, token: ack, reregistered: false, storeRefused: true } });
            log.warn("limit-hit", { limit: "sleep.maxMessages + limits.maxInflight (messages waiting for a store write)", clientId: c.session.clientId, topic, qos });
            return;
          }
          c.backlog.push(() => onUpstreamMessage(c, topic, payload, qos, retain, ack));
          return;
        }
        onUpstreamMessage(c, topic, payload, qos, retain, ack);
      },
      closed: () => run(c, { kind: "upClosed" }),
    };
  }

  function onUpstreamMessage(c: Client, topic: string, payload: Uint8Array, qos: 0 | 1 | 2, retain: boolean, ack: (() => void) | undefined): void {
    if (qos > 0 && ack !== undefined && store !== undefined && c.session.state === "asleep" && !c.session.cleanSession) {
      holdDurably(c, topic, payload, qos === 2 ? 2 : 1, retain, ack, store);
      return;
    }
    run(c, { kind: "upMessage", delivery: { topic, payload, qos, retain, token: ack, reregistered: false } });
  }

  /** After a store write: the messages that arrived meanwhile, in order, until one needs the store again. */
  function drainBacklog(c: Client): void {
    while (!c.writing && c.backlog.length > 0) (c.backlog.shift() as () => void)();
  }

  /**
   * A QoS 1/2 message for a sleeping persistent client: written to the store (synced) and only then
   * acknowledged upstream. Messages arriving meanwhile wait, so the order of arrival is kept. No room in
   * the buffer or the store: it stays unacknowledged upstream.
   */
  function holdDurably(c: Client, topic: string, payload: Uint8Array, qos: 1 | 2, retain: boolean, ack: () => void, store: SessionStore): void {
    if (!wouldHold(c.session, topic, payload)) {
      run(c, { kind: "upMessage", delivery: { topic, payload, qos, retain, token: ack, reregistered: false } });
      return;
    }
    const clientId = c.session.clientId;
    const done = (delivery: Delivery): void => {
      c.writing = false;
      run(c, { kind: "upMessage", delivery });
      drainBacklog(c);
    };
    const refused: Delivery = { topic, payload, qos, retain, token: ack, reregistered: false, storeRefused: true };
    c.writing = true;
    store.addMessage(clientId, { topicName: topic, payload, qos, retain }).then(
      (result) => {
        if (!result.stored) {
          log.warn("limit-hit", { limit: `sleep.store.${result.reason === "messages" ? "maxMessages" : "maxBytes"}`, clientId, topic });
          done(refused);
          return;
        }
        const seq = result.seq;
        const token = (): void => storeOp("deleteMessage", clientId, store.deleteMessage(clientId, seq));
        // On disk: now the broker may have its acknowledgement.
        ack();
        done({ topic, payload, qos, retain, token, reregistered: false, durable: true });
      },
      (err: Error) => {
        log.error("store-failed", { op: "addMessage", clientId, error: err.message, path: store.location });
        done(refused);
      },
    );
  }

  function storedSession(c: Client, state: StoredSession["state"]): StoredSession {
    const s = c.session;
    const record: StoredSession = {
      clientId: s.clientId,
      state,
      duration: s.sleep !== undefined ? s.sleep.duration : 0,
      keepAlive: s.duration,
      lastHeardAt: Math.max(0, Math.round(s.lastHeard)),
      link: c.link.name,
      address: c.address,
      subscriptions: [...c.subscriptions].map(([topicFilter, qos]) => ({ topicFilter, qos })),
      topicIds: [],
    };
    if (s.will !== undefined) record.will = { topicName: s.will.topic, payload: s.will.payload, qos: s.will.qos, retain: s.will.retain };
    return record;
  }

  function storeOp(op: string, clientId: string, p: Promise<unknown>): void {
    p.catch((err: Error) => log.error("store-failed", { op, clientId, error: err.message }));
  }

  function execute(c: Client, e: Effect): void {
    switch (e.kind) {
      case "send":
        sendTo(c.link, c.address, c.nodeId, e.message);
        return;
      case "upConnect":
        c.upstream = upstream.open(
          { clientId: c.session.clientId, cleanSession: c.session.cleanSession, keepAlive: c.session.duration, will: e.will },
          sinkFor(c),
          upstreamClosing.get(c.session.clientId),
        );
        return;
      case "upPublish":
        if (c.upstream !== undefined && !c.upstream.publish(e.topic, e.payload, e.qos, e.retain, e.msgId)) counters.upstreamDropped++;
        return;
      case "upSubscribe":
        c.subscriptions.set(e.filter, e.qos);
        if (c.upstream !== undefined) c.upstream.subscribe(e.filter, e.qos, e.msgId);
        return;
      case "upUnsubscribe":
        c.subscriptions.delete(e.filter);
        if (c.upstream !== undefined) c.upstream.unsubscribe(e.filter, e.msgId);
        return;
      case "upReplaceWill":
        if (c.upstream !== undefined) c.upstream.replaceWill(e.will);
        return;
      case "upAck":
        e.token();
        return;
      case "upClose":
        if (c.upstream !== undefined && !shuttingDown) closeUpstream(c.session.clientId, c.upstream, e.graceful);
        return;
      case "end":
        if (c.persisted && store !== undefined && !shuttingDown) {
          // The sleeping session ended (lost or disconnected): its record and what it still held go.
          c.persisted = false;
          const held = c.session.sleep !== undefined ? c.session.sleep.buffer.length : 0;
          if (held > 0) log.warn("sleep-buffer-discarded", { clientId: c.session.clientId, messages: held, reason: c.session.state });
          storeOp("deleteSession", c.session.clientId, store.deleteSession(c.session.clientId));
        }
        forget(c);
        return;
      case "sleepPersist":
        if (store !== undefined && !c.session.cleanSession && c.nodeId === undefined) {
          const clientId = c.session.clientId;
          c.persisted = true;
          store.putSession(storedSession(c, "asleep")).then(
            (ok) => {
              if (!ok) log.warn("limit-hit", { limit: "sleep.store.maxSessions", value: store.limits.maxSessions, clientId });
            },
            (err: Error) => log.error("store-failed", { op: "putSession", clientId, error: err.message }),
          );
        }
        return;
      case "publishWill":
        if (c.session.will !== undefined) upstream.publishAnonymous(c.session.will.topic, c.session.will.payload, c.session.will.retain);
        return;
    }
  }

  const effectArrays: Effect[][] = [];
  let depth = 0;
  function run(c: Client, event: SessionEvent): void {
    if (c.ended) return;
    // One effects array reused per call depth: executing an effect may run another event (an mqtt.js
    // callback fired synchronously), which then gets an array of its own.
    const out = effectArrays[depth] ?? (effectArrays[depth] = []);
    depth++;
    try {
      step(c.session, event, now(), ctx, out);
      for (let i = 0; i < out.length; i++) execute(c, out[i] as Effect);
    } finally {
      out.length = 0;
      depth--;
    }
  }

  function topicTableFor(clientId: string): TopicTable {
    const perClient = config.predefinedTopics.clients[clientId];
    const maps = perClient === undefined ? globalPredefined : predefinedMaps(config.predefinedTopics.global, perClient);
    return new TopicTable(config.limits.maxTopicsPerClient, maps.idByName, maps.nameById);
  }

  function onConnect(link: Link, table: Map<string, Client>, key: string, address: string, nodeId: Bytes | undefined, m: Message & { type: MsgType.Connect }): void {
    const t = now();
    const here = table.get(key);
    // §6.14: a CONNECT from a sleeping client starts a new session that delivers what the old one held.
    let carried: Client | undefined;
    if (here !== undefined) {
      const inHandshake = here.session.state !== "active" && here.session.state !== "awake" && here.session.state !== "asleep";
      if (here.session.clientId === m.clientId && isSleeping(here.session)) carried = here;
      if (here.session.clientId === m.clientId && inHandshake) {
        run(here, { kind: "frame", message: m });
        return;
      }
      // §6.2 a new CONNECT starts a new session. A different client id from this address: the old client
      // is gone (its address was reused), so it is treated as lost and its will published.
      const sameClient = here.session.clientId === m.clientId;
      if (!sameClient) log.info("session-replaced", { key, oldClientId: here.session.clientId, clientId: m.clientId });
      endClient(here, sameClient ? "disconnected" : "lost", sameClient ? "new CONNECT" : `address taken by client ${m.clientId}`, sameClient);
    }
    const previous = byClientId.get(m.clientId);
    let adopt: TopicTable | undefined = here !== undefined && here.session.clientId === m.clientId ? here.session.topics : undefined;
    if (previous !== undefined && previous !== here) {
      // Takeover: the same client id from a new address (NAT rebinding, a new radio path).
      counters.takeovers++;
      log.info("session-takeover", { clientId: m.clientId, from: `${previous.link.name} ${previous.address}`, to: `${link.name} ${address}` });
      adopt = previous.session.topics;
      if (isSleeping(previous.session)) carried = previous;
      endClient(previous, "disconnected", `taken over from ${link.name} ${address}`, true);
    }
    if (clientCount >= config.limits.maxClients) {
      counters.congestionRefusals++;
      log.warn("limit-hit", { limit: "limits.maxClients", value: config.limits.maxClients, clientId: m.clientId });
      sendTo(link, address, nodeId, { type: MsgType.ConnAck, returnCode: ReturnCode.Congestion });
      return;
    }
    const topics = topicTableFor(m.clientId);
    if (!m.cleanSession && adopt !== undefined) topics.adopt(adopt);
    const c: Client = { session: newSession(key, topics, t), link, address, nodeId, upstream: undefined, ended: false, subscriptions: new Map(), persisted: false, writing: false, backlog: [] };
    if (carried !== undefined) {
      takeOver(carried.session, c.session);
      for (const [filter, qos] of carried.subscriptions) c.subscriptions.set(filter, qos);
      if (carried.persisted && store !== undefined) {
        // Active now: not to be resumed as sleeping after a restart; its messages stay in the store until delivered.
        c.persisted = true;
        storeOp("putSession", m.clientId, store.putSession(storedSession(carried, "active")));
      }
    }
    table.set(key, c);
    clientCount++;
    byClientId.set(m.clientId, c);
    run(c, { kind: "frame", message: m });
  }

  /**
   * §6.14 PINGREQ(ClientId) for a sleeping session, from an address other than the session's: a spoofed
   * wake-up, ignored and counted, unless sleep.allowAddressChange lists the client id (NAT or NB-IoT
   * rebinding): then the session moves to the new address and wakes.
   */
  function onWakeFromElsewhere(c: Client, link: Link, table: Map<string, Client>, key: string, address: string, nodeId: Bytes | undefined, m: Message): void {
    const clientId = c.session.clientId;
    const source = wakeSource({ link: c.link.name, address: c.session.key }, { link: link.name, address: key }, clientId, allowAddressChange);
    if (source !== "moved") {
      counters.spoofedWakeups++;
      log.warn("wake-ignored", { clientId, from: `${link.name} ${address}`, sleepingAt: `${c.link.name} ${c.address}`, reason: "PINGREQ from another address; list the client id in sleep.allowAddressChange if it may move" });
      return;
    }
    const oldTable = byLink.get(c.link);
    if (oldTable !== undefined && oldTable.get(c.session.key) === c) oldTable.delete(c.session.key);
    log.info("session-moved", { clientId, from: `${c.link.name} ${c.address}`, to: `${link.name} ${address}` });
    c.link = link;
    c.address = address;
    c.nodeId = nodeId;
    c.session.key = key;
    table.set(key, c);
    run(c, { kind: "frame", message: m });
  }

  function endClient(c: Client, to: "disconnected" | "lost", reason: string, graceful: boolean): void {
    if (c.ended) return;
    if (to === "lost") counters.clientsLost++;
    transition(c.session, to, reason, ctx);
    if (c.upstream !== undefined) closeUpstream(c.session.clientId, c.upstream, graceful);
    forget(c);
  }

  /** §6.8 QoS -1: no session needed; only predefined ids (the global table) and short names are valid. */
  function onQosMinusOne(m: Publish): void {
    let topic: string | undefined;
    if (m.topicIdType === TopicIdType.Predefined) topic = globalPredefined.nameById.get(m.topicId);
    else if (m.topicIdType === TopicIdType.Short) topic = String.fromCharCode(Math.floor(m.topicId / 256), m.topicId % 256);
    if (topic === undefined) {
      counters.qosMinusOneDropped++;
      return;
    }
    const data = m.data as unknown as Uint8Array;
    upstream.publishAnonymous(topic, data.subarray(m.dataOffset, m.dataOffset + m.dataLength), m.retain);
  }

  function onFrame(link: Link, table: Map<string, Client>, frame: Uint8Array, address: string): void {
    const decoded = decode(frame as unknown as Bytes, 0, frame.length, decodeOptions);
    if (decoded.type === "error") {
      counters.malformedDropped++;
      log.debug("malformed-dropped", { link: link.name, address, code: decoded.code, offset: decoded.offset });
      if (decoded.code === DecodeErrorCode.ClientIdLength && frame[frame[0] === 0x01 ? 3 : 1] === MsgType.Connect) {
        // A CONNECT whose client id is empty or too long is refused, not met with silence.
        log.warn("limit-hit", { limit: "limits.maxClientIdLength", value: config.limits.maxClientIdLength, address });
        sendTo(link, address, undefined, { type: MsgType.ConnAck, returnCode: ReturnCode.NotSupported });
      }
      return;
    }
    let m: Message = decoded;
    let key = address;
    let nodeId: Bytes | undefined;
    if (m.type === MsgType.Encapsulated) {
      nodeId = m.wirelessNodeId;
      key = address + "|" + nodeKey(nodeId);
      m = m.message;
    }
    if (m.type === MsgType.Publish && frame.length > config.limits.maxMessageSize) {
      counters.congestionRefusals++;
      log.warn("limit-hit", { limit: "limits.maxMessageSize", value: config.limits.maxMessageSize, size: frame.length, address });
      if (m.qos > 0) sendTo(link, address, nodeId, { type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Congestion });
      return;
    }
    const c = table.get(key);
    if (c !== undefined && m.type !== MsgType.Connect) {
      run(c, { kind: "frame", message: m });
      return;
    }
    if (m.type === MsgType.PingReq && m.clientId !== undefined) {
      const sleeper = byClientId.get(m.clientId);
      if (sleeper !== undefined && isSleeping(sleeper.session)) {
        onWakeFromElsewhere(sleeper, link, table, key, address, nodeId, m);
        return;
      }
    }
    switch (m.type) {
      case MsgType.Connect:
        onConnect(link, table, key, address, nodeId, m);
        return;
      case MsgType.SearchGw:
        sendTo(link, address, nodeId, gwInfo(config.gatewayId));
        return;
      case MsgType.Publish:
        if (m.qos === -1) {
          onQosMinusOne(m);
          return;
        }
        break;
      case MsgType.Disconnect:
        sendTo(link, address, nodeId, { type: MsgType.Disconnect, duration: undefined });
        return;
      case MsgType.Advertise:
      case MsgType.GwInfo:
        return; // another gateway, or a client answering for one
      default:
        break;
    }
    // Not connected: §6.13 a DISCONNECT tells the client to CONNECT again.
    counters.unknownClientFrames++;
    sendTo(link, address, nodeId, { type: MsgType.Disconnect, duration: undefined });
  }

  const udpLinks = config.udp.map(
    (spec) => {
      const target = advertiseTargetFor(config.advertiseTarget, spec.host, spec.port);
      return new UdpLink({ host: spec.host, port: spec.port, mtu: Math.max(config.limits.maxMessageSize, 1232), log, ...(target !== undefined ? { broadcastTarget: target } : {}) });
    },
  );
  const links: Link[] = [...udpLinks, ...streamLinks(config.serial, config.ble, config.limits.maxMessageSize, log), ...(options.links ?? [])];
  const opened: Link[] = [];
  try {
    for (const link of links) {
      const table = new Map<string, Client>();
      byLink.set(link, table);
      await link.open((frame, address) => onFrame(link, table, frame, address));
      opened.push(link);
    }
  } catch (err) {
    await Promise.all(opened.map((l) => l.close()));
    if (store !== undefined) await store.close();
    await upstream.close();
    if (broker !== undefined) await broker.close();
    throw err;
  }

  /** Sleeping persistent sessions recorded before a restart: asleep again, their messages held, upstream resumed. */
  async function restoreSleepers(store: SessionStore): Promise<void> {
    for (const record of await store.sessions()) {
      if (record.state !== "asleep" && record.state !== "awake") continue;
      const link = links.find((l) => l.name === record.link);
      const table = link === undefined ? undefined : byLink.get(link);
      if (link === undefined || table === undefined || clientCount >= config.limits.maxClients || table.has(record.address)) {
        log.warn("session-not-restored", { clientId: record.clientId, link: record.link, address: record.address, reason: link === undefined ? "no such link in this configuration" : "limits.maxClients reached or address in use" });
        continue;
      }
      const clientId = record.clientId;
      const messages = await store.messages(clientId);
      const c: Client = {
        session: newSession(record.address, topicTableFor(clientId), now()),
        link,
        address: record.address,
        nodeId: undefined,
        upstream: undefined,
        ended: false,
        subscriptions: new Map(record.subscriptions.map((x) => [x.topicFilter, x.qos])),
        persisted: true,
        writing: false,
        backlog: [],
      };
      const will = record.will === undefined ? undefined : { topic: record.will.topicName, payload: record.will.payload, qos: record.will.qos, retain: record.will.retain };
      const held = messages.map((m) => ({
        topicName: m.topicName,
        payload: m.payload,
        qos: m.qos,
        retain: m.retain,
        token: () => storeOp("deleteMessage", clientId, store.deleteMessage(clientId, m.seq)),
      }));
      const refused = restoreSleeping(c.session, { clientId, keepAlive: record.keepAlive, duration: record.duration, lastHeardAt: record.lastHeardAt, will }, held, ctx);
      if (refused > 0) log.warn("sleep-buffer-refused", { clientId, messages: refused, action: "kept in the store only (buffer limits lowered since they were stored)" });
      table.set(record.address, c);
      clientCount++;
      byClientId.set(clientId, c);
      c.upstream = upstream.open({ clientId, cleanSession: false, keepAlive: record.keepAlive, will }, sinkFor(c));
      // The broker may have lost the session (the embedded broker restarts with the gateway): subscribe again.
      for (const [filter, qos] of c.subscriptions) c.upstream.subscribe(filter, qos, 0);
      c.session.deadline = computeDeadline(c.session, ctx);
      log.info("session-restored", { clientId, messages: messages.length, link: link.name, address: record.address });
    }
  }
  if (store !== undefined && resume) await restoreSleepers(store);

  const tickMs = Math.max(5, Math.min(250, Math.floor(config.timers.tRetryMs / 4)));
  const advertiseMs = config.timers.advertiseIntervalS * 1000;
  let nextAdvertise = now();
  const tickEvent: SessionEvent = { kind: "tick" };
  function tick(): void {
    const t = now();
    for (const table of byLink.values()) {
      for (const c of table.values()) {
        if (c.session.deadline <= t) run(c, tickEvent);
      }
    }
    if (advertiseMs > 0 && t >= nextAdvertise) {
      nextAdvertise = t + advertiseMs;
      for (const link of links) {
        const message = advertise(config.gatewayId, config.timers.advertiseIntervalS);
        const frame = Buffer.allocUnsafe(encodingLength(message));
        encode(message, frame as unknown as Bytes, 0);
        link.broadcast(frame);
      }
    }
  }
  tick();
  const timer = setInterval(tick, tickMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    links,
    udpAddresses: udpLinks.map((l) => l.address()),
    brokerUrl,
    counters,
    config,
    sessionCount: () => clientCount,
    heldFor: (clientId) => {
      const c = byClientId.get(clientId);
      return c === undefined || c.session.sleep === undefined ? 0 : c.session.sleep.buffer.length;
    },
    store,
    close() {
      if (closing !== undefined) return closing;
      closing = (async () => {
        clearInterval(timer);
        shuttingDown = true;
        for (const table of byLink.values()) for (const c of [...table.values()]) run(c, { kind: "shutdown" });
        await upstream.close();
        await Promise.all(links.map((l) => l.close()));
        if (broker !== undefined) await broker.close();
        if (store !== undefined) await store.close();
      })();
      return closing;
    },
  };
}
