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
import { silentLog, throttled } from "./log";
import { transition } from "./session/lifecycle";
import { step } from "./session/machine";
import { newSession } from "./session/session";
import { predefinedMaps, TopicTable } from "./session/topics";
import { newCounters, type Counters, type Effect, type Session, type SessionContext, type SessionEvent } from "./session/types";
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
}

export interface RunningGateway {
  /** Every link served, UDP listeners first. */
  links: Link[];
  /** The bound UDP addresses, e.g. "127.0.0.1:40123", "[::]:1884". */
  udpAddresses: string[];
  /** The broker in use: the embedded broker's mqtt://127.0.0.1:PORT, or the configured URL. */
  brokerUrl: string;
  counters: Counters;
  /** Sessions currently known (connecting or connected). */
  sessionCount(): number;
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
    counters,
    log,
  };
  const decodeOptions: DecodeOptions = { maxClientIdLength: config.limits.maxClientIdLength };

  let broker: EmbeddedBroker | undefined;
  let brokerUrl = config.broker;
  if (config.broker === "embedded") {
    broker = await startEmbeddedBroker(config.embeddedPort);
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
        run(c, { kind: "upMessage", delivery: { topic, payload, qos, retain, token: ack, reregistered: false } });
      },
      closed: () => run(c, { kind: "upClosed" }),
    };
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
        if (c.upstream !== undefined) c.upstream.subscribe(e.filter, e.qos, e.msgId);
        return;
      case "upUnsubscribe":
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
        forget(c);
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
    if (here !== undefined) {
      const inHandshake = here.session.state !== "active" && here.session.state !== "awake";
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
    const c: Client = { session: newSession(key, topics, t), link, address, nodeId, upstream: undefined, ended: false };
    table.set(key, c);
    clientCount++;
    byClientId.set(m.clientId, c);
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
    await upstream.close();
    if (broker !== undefined) await broker.close();
    throw err;
  }

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
    close() {
      if (closing !== undefined) return closing;
      closing = (async () => {
        clearInterval(timer);
        shuttingDown = true;
        for (const table of byLink.values()) for (const c of [...table.values()]) run(c, { kind: "shutdown" });
        await upstream.close();
        await Promise.all(links.map((l) => l.close()));
        if (broker !== undefined) await broker.close();
      })();
      return closing;
    },
  };
}
