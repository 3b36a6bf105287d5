import type { Counters } from "../session/types";
import type { UpstreamConnectionState } from "../upstream/upstream";
import { censusOf, SESSION_STATES, type Census } from "./census";
import { COUNTER_METRICS } from "./counter-metrics";
import { dtlsMetrics } from "./dtls-metrics";
import { linkMetrics } from "./link-metrics";
import { linkReport, type LinkReport } from "./links";
import type { Define, Labels } from "./metric-types";
import type { GatewayView } from "./view";

const BROKER_STATUSES = ["unknown", "reachable", "refused", "unreachable"] as const;
const UPSTREAM_STATES: readonly UpstreamConnectionState[] = ["waiting", "connecting", "open", "replacing"];

/** What one scrape reads once and every metric shares: the walk over the sessions and the links' counters. */
interface Scrape {
  census: Census;
  links: LinkReport[];
}

export interface Metrics {
  contentType: string;
  /** The Prometheus text exposition of every metric, read now. */
  text(): Promise<string>;
}

/**
 * The gateway's metrics in a registry of their own (prom-client), read from the running gateway at every
 * scrape: nothing is counted twice, and nothing runs between scrapes beyond Node's default process metrics.
 * prom-client is loaded here, on first use, so that a gateway without the HTTP listener never loads it.
 */
export async function createMetrics(view: GatewayView): Promise<Metrics> {
  const { collectDefaultMetrics, Counter, Gauge, Registry } = await import("prom-client");
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let scrape: Scrape = { census: censusOf(view), links: [] };

  const gauge: Define = (name, help, labelNames, read) => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  };
  const counter: Define = (name, help, labelNames, read) => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });
  };

  gauge("mqttsn_clients", "Sessions held, by session state (§6.14 and the connect flow)", ["state"], () =>
    SESSION_STATES.map((state) => [{ state }, scrape.census.sessions[state]]),
  );
  gauge(
    "mqttsn_buffered_messages",
    "Messages queued toward clients (sleeping ones included), by the session's state",
    ["state"],
    () => SESSION_STATES.map((state) => [{ state }, scrape.census.bufferedMessages[state]]),
  );
  gauge(
    "mqttsn_buffered_octets",
    "Octets (topic name and payload) of the messages queued toward clients, by the session's state",
    ["state"],
    () => SESSION_STATES.map((state) => [{ state }, scrape.census.bufferedOctets[state]]),
  );
  gauge("mqttsn_upstream_connections", "Client connections to the broker held now, by state", ["state"], () => {
    const states = view.upstreamStates();
    return states === undefined ? [] : UPSTREAM_STATES.map((state) => [{ state }, states[state]]);
  });
  gauge(
    "mqttsn_aggregating_shared_connections",
    "Aggregating mode's shared broker connections, by state",
    ["state"],
    () => {
      const a = view.aggregating();
      return a === undefined
        ? []
        : [
            [{ state: "open" }, a.sharedOpen],
            [{ state: "down" }, a.sharedTotal - a.sharedOpen],
          ];
    },
  );
  gauge("mqttsn_aggregating_kept_sessions", "Persistent aggregated devices kept while away", [], () => {
    const a = view.aggregating();
    return a === undefined ? [] : [[{}, a.keptSessions]];
  });
  gauge(
    "mqttsn_aggregating_parked_messages",
    "QoS 1/2 messages kept for persistent aggregated devices away",
    [],
    () => {
      const a = view.aggregating();
      return a === undefined ? [] : [[{}, a.parked]];
    },
  );
  gauge(
    "mqttsn_broker_status",
    "1 for the broker's status as the gateway's own connection finds it",
    ["status"],
    () => {
      const now = view.brokerStatus();
      return BROKER_STATUSES.map((status) => [{ status }, status === now ? 1 : 0]);
    },
  );
  gauge("mqttsn_limit", "Limits in force (config limits.*; they change on a reload)", ["limit"], () =>
    Object.entries(view.config().limits).map(([limit, value]) => [{ limit }, value]),
  );

  for (const [name, samples] of counterFamilies(view.counters)) {
    const help = samples[0]?.help ?? name;
    const labelNames = Object.keys(samples[0]?.labels ?? {});
    counter(name, help, labelNames, () => samples.map((s) => [s.labels ?? {}, view.counters[s.key]]));
  }
  counter(
    "mqttsn_aggregating_parked_dropped_total",
    "Messages for aggregated devices away dropped at aggregating.maxParkedPerClient or maxParkedMessages",
    [],
    () => {
      const a = view.aggregating();
      return a === undefined ? [] : [[{}, a.parkedDropped]];
    },
  );
  counter(
    "mqttsn_aggregating_wills_published_total",
    "Wills the gateway published for lost aggregated devices",
    [],
    () => {
      const a = view.aggregating();
      return a === undefined ? [] : [[{}, a.willsPublished]];
    },
  );
  counter("mqttsn_store_refused_total", "Durable store writes refused because it was full", ["what"], () => {
    const c = view.storeCounters();
    return c === undefined
      ? []
      : [
          [{ what: "messages" }, c.refusedMessages],
          [{ what: "sessions" }, c.refusedSessions],
        ];
  });
  counter("mqttsn_store_corrupt_records_total", "Unreadable store records skipped and deleted at start", [], () => {
    const c = view.storeCounters();
    return c === undefined ? [] : [[{}, c.corrupt]];
  });

  linkMetrics(gauge, counter, () => scrape.links);
  dtlsMetrics(gauge, counter, () => scrape.links);

  return {
    contentType: registry.contentType,
    text: () => {
      scrape = { census: censusOf(view), links: view.links.map(linkReport).filter((l) => l.kind !== "other") };
      return registry.metrics();
    },
  };
}

/** The gateway counters grouped by metric name. */
function counterFamilies(
  counters: Counters,
): Map<string, Array<{ key: keyof Counters; help: string; labels: Labels | undefined }>> {
  const families = new Map<string, Array<{ key: keyof Counters; help: string; labels: Labels | undefined }>>();
  for (const key of Object.keys(counters) as Array<keyof Counters>) {
    const m = COUNTER_METRICS[key];
    const family = families.get(m.name) ?? [];
    family.push({ key, help: m.help, labels: m.labels });
    families.set(m.name, family);
  }
  return families;
}
