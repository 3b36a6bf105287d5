import { readFileSync } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { resolve } from "node:path";
import type { Link, Log } from "../../transports/link";
import { streamLinks } from "../../transports/stream-links";
import { UdpLink } from "../../transports/udp";
import { ConfigError, type GatewayConfig } from "../config";
import { dtlsLinksFor } from "../dtls/links";
import { limitsFor } from "../sleep/buffer";
import { LazySessionStore, storePathExists } from "../store/lazy";
import { LevelSessionStore } from "../store/level";
import type { DeviceStore, SessionStore } from "../store/session-store";
import type { Counters, SessionContext } from "../session/types";
import { AggregatingUpstream } from "../upstream/aggregating/aggregating";
import { usesAggregating } from "../upstream/mode";
import { ModeRouter } from "../upstream/router";
import { TransparentUpstream } from "../upstream/transparent";
import type { BrokerOptions } from "../upstream/broker-options";
import type { Upstream } from "../upstream/upstream";

/** The parts a gateway is built from, made from its validated config. */

export function sessionContextFor(config: GatewayConfig, counters: Counters, log: Log): SessionContext {
  return {
    maxTopicsPerClient: config.limits.maxTopicsPerClient,
    maxInflight: config.limits.maxInflight,
    maxMessageSize: config.limits.maxMessageSize,
    tRetryMs: config.timers.tRetryMs,
    nRetry: config.timers.nRetry,
    keepAliveGraceMs: config.timers.keepAliveGraceMs,
    willHandshakeTimeoutMs: config.timers.willHandshakeTimeoutMs,
    upstreamConnectTimeoutMs: config.timers.upstreamConnectTimeoutMs,
    durable: config.sleep.store.path !== "",
    sleepGraceMs: config.sleep.graceMs,
    queueLimitsFor: (clientId) => limitsFor(config.sleep, clientId),
    counters,
    log,
  };
}

/**
 * The durable store, and whether it holds sessions to resume. It is opened here when it does, otherwise
 * when a persistent client first sleeps.
 */
export async function openStore(
  config: GatewayConfig,
  given: SessionStore | undefined,
  log: Log,
): Promise<{ store: SessionStore | undefined; resume: boolean }> {
  let store = given;
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
  return { store, resume };
}

/** Broker URL schemes that use TLS: only for these are upstream.caFile, certFile and keyFile read. */
const TLS_SCHEMES = ["mqtts:", "tls:", "wss:"];

export function usesTls(brokerUrl: string): boolean {
  return TLS_SCHEMES.some((scheme) => brokerUrl.startsWith(`${scheme}//`));
}

/** Reads one of the upstream TLS files; a missing or unreadable one stops the gateway naming its key. */
function readTlsFile(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(key, path, `a readable PEM file; reading ${resolve(path)} failed: ${(err as Error).message}`);
  }
}

function isDeviceStore(store: SessionStore): store is SessionStore & DeviceStore {
  return "putDevice" in store && "addParked" in store;
}

/** The broker login and TLS files of the upstream section; TLS files are read only for a TLS URL. */
function upstreamIdentity(
  config: GatewayConfig,
  brokerUrl: string,
): Pick<BrokerOptions, "username" | "password" | "ca" | "cert" | "key"> {
  const u = config.upstream;
  const tls = usesTls(brokerUrl);
  return {
    ...(u.username !== undefined ? { username: u.username } : {}),
    ...(u.password !== undefined ? { password: u.password } : {}),
    ...(tls && u.caFile !== undefined ? { ca: readTlsFile("upstream.caFile", u.caFile) } : {}),
    ...(tls && u.certFile !== undefined ? { cert: readTlsFile("upstream.certFile", u.certFile) } : {}),
    ...(tls && u.keyFile !== undefined ? { key: readTlsFile("upstream.keyFile", u.keyFile) } : {}),
  };
}

/**
 * The upstream adapters: transparent (one MQTT connection per client to brokerUrl), with the gateway's own
 * connection kept open to tell whether the broker is reachable; and when `mode` gives any client
 * aggregating mode, the shared connections beside it.
 */
export function upstreamFor(
  config: GatewayConfig,
  brokerUrl: string,
  log: Log,
  store: SessionStore | undefined,
): Upstream {
  const identity = upstreamIdentity(config, brokerUrl);
  const transparent = new TransparentUpstream({
    url: brokerUrl,
    ...identity,
    rejectUnauthorized: config.upstream.rejectUnauthorized,
    connectTimeoutMs: config.timers.upstreamConnectTimeoutMs,
    gatewayClientId: `mqttsn-gateway-${config.gatewayId}-${process.pid}`,
    log,
  });
  if (!usesAggregating(config.mode)) return transparent;
  const a = config.aggregating;
  const aggregating = new AggregatingUpstream({
    url: brokerUrl,
    ...identity,
    rejectUnauthorized: config.upstream.rejectUnauthorized,
    connectTimeoutMs: config.timers.upstreamConnectTimeoutMs,
    connections: a.connections,
    clientIdPrefix: a.clientIdPrefix !== "" ? a.clientIdPrefix : `mqttsn-gateway-${config.gatewayId}-shared`,
    maxKeptSessions: a.maxKeptSessions,
    maxParkedPerClient: a.maxParkedPerClient,
    maxParkedMessages: a.maxParkedMessages,
    custodyWaitMs: a.custodyWaitMs,
    store: store !== undefined && isDeviceStore(store) ? store : undefined,
    log,
  });
  return new ModeRouter(config.mode, transparent, aggregating);
}

/** §6.1 ADVERTISE target of one UDP listener; "auto" broadcasts from IPv4 listeners that are not on loopback. */
function advertiseTargetFor(setting: string, host: string, port: number): string | undefined {
  if (setting === "") return undefined;
  if (setting !== "auto") return setting;
  if (host.includes(":") || host.startsWith("127.") || port === 0) return undefined;
  return `255.255.255.255:${port}`;
}

/**
 * The UDP listeners. An IPv6 listener is IPv6 only (IPV6_V6ONLY) when an IPv4 listener of the config has
 * the same port, so "0.0.0.0:P" and "[::]:P" are two sockets side by side; alone, "[::]:P" keeps the
 * system's default (on Linux a dual-stack socket that also takes IPv4).
 */
export function udpLinksFor(config: GatewayConfig, log: Log): UdpLink[] {
  const ipv4Ports = new Set(config.udp.filter((spec) => isIPv4(spec.host)).map((spec) => spec.port));
  return config.udp.map((spec) => {
    const target = advertiseTargetFor(config.advertiseTarget, spec.host, spec.port);
    return new UdpLink({
      host: spec.host,
      port: spec.port,
      mtu: Math.max(config.limits.maxMessageSize, 1232),
      log,
      ...(isIPv6(spec.host) && ipv4Ports.has(spec.port) ? { ipv6Only: true } : {}),
      ...(target !== undefined ? { broadcastTarget: target } : {}),
    });
  });
}

/** The links beside plain UDP: DTLS listeners, serial ports, BLE peripherals. */
export function streamLinksFor(config: GatewayConfig, log: Log): Link[] {
  return [
    ...dtlsLinksFor(config.dtls, Math.max(config.limits.maxMessageSize, 1200), log),
    ...streamLinks(config.serial, config.ble, config.limits.maxMessageSize, log),
  ];
}
