import type { Link, Log } from "../transports/link";
import type { HttpListener } from "./http/server";
import { startEmbeddedBroker, type EmbeddedBroker } from "./broker/embedded";
import { validateConfig, type GatewayConfig, type LogLevel } from "./config";
import type { SessionStore } from "./store/session-store";
import { silentLog, throttled } from "./log";
import { reloadShell, type ReloadResult } from "./reload";
import { predefinedMaps } from "./session/topics";
import { newCounters, type Counters } from "./session/types";
import type { Upstream } from "./upstream/upstream";
import type { Client, Shell } from "./shell/context";
import { connectAdmissionFor } from "./shell/admission";
import { createRun } from "./shell/effects";
import { guarded } from "./shell/guard";
import { onFrame } from "./shell/inbound";
import { restoreSessions } from "./shell/restore";
import { openStore, sessionContextFor, streamLinksFor, upstreamFor, udpLinksFor } from "./shell/setup";
import { startTicking } from "./shell/tick";

export interface GatewayOptions {
  /** Links built elsewhere (serial, BLE, test links), served next to the UDP listeners of the config. */
  links?: Link[];
  /** Where records go; one with setLevel (createLog's) also follows logLevel on a reload. */
  log?: Log & { setLevel?(level: LogLevel): void };
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
  /** Messages queued for a client that has slept (0 for an unknown one or one that never slept). */
  heldFor(clientId: string): number;
  /** The durable store of sleeping persistent sessions; undefined when sleep.store.path is "". */
  store: SessionStore | undefined;
  /** The configuration in force: the one started with, with the reloadable keys of the last reload(). */
  readonly config: GatewayConfig;
  /** The bound address of the HTTP listener (config http), e.g. "127.0.0.1:9184"; undefined when it is off. */
  httpAddress: string | undefined;
  /**
   * Puts a new configuration's limits, predefined topics and log level in force without dropping a session
   * (see gateway/reload.ts for when each applies). Throws ConfigError, and changes nothing, when `input`
   * is not valid. Other changed keys are listed in restartNeeded and keep their running value.
   */
  reload(input: GatewayConfig | unknown): ReloadResult;
  /** Ends every session (DISCONNECT to clients, MQTT DISCONNECT upstream: no wills), closes links and the embedded broker. */
  close(): Promise<void>;
}

/** Wires the I/O shell (gateway/shell/) around the session state machines: links, upstream, store, timer. */
export async function startGateway(
  input: GatewayConfig | unknown,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const config = validateConfig(input ?? {});
  const startedAt = Date.now();
  const log = throttled(options.log ?? silentLog);
  const now = options.now ?? Date.now;
  const counters = newCounters();
  const { store, resume } = await openStore(config, options.store, log);

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
  const upstream = options.upstream ?? upstreamFor(config, brokerUrl, log, store);

  const shell: Shell = {
    config,
    log,
    now,
    counters,
    ctx: sessionContextFor(config, counters, log),
    decodeOptions: { maxClientIdLength: config.limits.maxClientIdLength },
    store,
    upstream,
    globalPredefined: predefinedMaps(config.predefinedTopics.global, undefined),
    allowAddressChange: new Set(config.sleep.allowAddressChange),
    byLink: new Map(),
    byClientId: new Map(),
    ended: new Map(),
    clientCount: 0,
    shuttingDown: false,
    admission: connectAdmissionFor(config.limits),
    run: () => undefined,
  };
  shell.run = createRun(shell);

  const udpLinks = udpLinksFor(config, log);
  const links: Link[] = [...udpLinks, ...streamLinksFor(config, log), ...(options.links ?? [])];
  const opened: Link[] = [];
  /** Start failed after the store and the upstream were made: everything opened so far is closed again. */
  const abandon = async (): Promise<void> => {
    await Promise.all(opened.map((l) => l.close()));
    if (store !== undefined) await store.close();
    await upstream.close();
    if (broker !== undefined) await broker.close();
  };
  try {
    for (const link of links) {
      const table = new Map<string, Client>();
      shell.byLink.set(link, table);
      await link.open((frame, address) =>
        guarded(shell, "datagram", { link: link.name, address }, () => onFrame(shell, link, table, frame, address)),
      );
      opened.push(link);
    }
  } catch (err) {
    await abandon();
    throw err;
  }

  let http: HttpListener | undefined;
  if (config.http !== "") {
    try {
      // Loaded only when asked for: prom-client costs start-up time and memory a gateway without it need not pay.
      const { startHttpListener } = await import("./http/server");
      const { viewOfShell } = await import("./http/shell-view");
      http = await startHttpListener(config.http, viewOfShell(shell, links, brokerUrl, startedAt), log);
    } catch (err) {
      await abandon();
      throw err;
    }
  }

  if (store !== undefined && resume) {
    await upstream.restore?.();
    await restoreSessions(shell, links, store);
  }
  // Only now: a shared connection opened before its devices were restored would find no one to deliver to.
  upstream.watchBroker?.();
  const stopTicking = startTicking(shell, links);

  let closing: Promise<void> | undefined;
  return {
    links,
    udpAddresses: udpLinks.map((l) => l.address()),
    brokerUrl,
    counters,
    get config() {
      return shell.config;
    },
    httpAddress: http?.address(),
    reload(next) {
      const valid = validateConfig(next ?? {});
      const result = reloadShell(shell, valid);
      options.log?.setLevel?.(valid.logLevel);
      return result;
    },
    sessionCount: () => shell.clientCount,
    heldFor: (clientId) => {
      const c = shell.byClientId.get(clientId);
      return c === undefined || c.session.sleep === undefined ? 0 : c.session.queue.length;
    },
    store,
    close() {
      if (closing !== undefined) return closing;
      closing = (async () => {
        stopTicking();
        if (http !== undefined) await http.close();
        shell.shuttingDown = true;
        for (const table of shell.byLink.values())
          for (const c of [...table.values()]) shell.run(c, { kind: "shutdown" });
        await upstream.close();
        await Promise.all(links.map((l) => l.close()));
        if (broker !== undefined) await broker.close();
        if (store !== undefined) await store.close();
      })();
      return closing;
    },
  };
}
