import type { Counters } from "../session/types";
import type { UpstreamConnectionState } from "../upstream/upstream";
import { censusOf, SESSION_STATES, type Census } from "./census";
import { COUNTER_METRICS } from "./counter-metrics";
import { linkReport, type FrameDropReason, type LinkReport } from "./links";
import type { GatewayView } from "./view";

type Labels = Record<string, string>;
type Sample = [Labels, number];

const BROKER_STATUSES = ["unknown", "reachable", "refused", "unreachable"] as const;
const UPSTREAM_STATES: readonly UpstreamConnectionState[] = ["waiting", "connecting", "open", "replacing"];
const DROP_REASONS: readonly FrameDropReason[] = ["oversize", "bad_crc", "malformed"];

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

  const gauge = (name: string, help: string, labelNames: string[], read: () => Sample[]): void => {
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
  const counter = (name: string, help: string, labelNames: string[], read: () => Sample[]): void => {
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

type Define = (name: string, help: string, labelNames: string[], read: () => Sample[]) => void;

/** Per-link metrics, labelled with the link's name and kind (udp, serial, ble). */
function linkMetrics(gauge: Define, counter: Define, links: () => LinkReport[]): void {
  const per = (read: (l: LinkReport) => number | undefined) => (): Sample[] =>
    links().flatMap((l): Sample[] => {
      const v = read(l);
      return v === undefined ? [] : [[{ link: l.name, kind: l.kind }, v]];
    });
  const labels = ["link", "kind"];
  gauge(
    "mqttsn_link_up",
    "1 when the link is up: UDP socket bound, serial port open, a BLE peripheral connected",
    labels,
    per((l) => (l.up === undefined ? undefined : l.up ? 1 : 0)),
  );
  counter(
    "mqttsn_link_frames_received_total",
    "Frames a link handed to the gateway",
    labels,
    per((l) => l.framesReceived),
  );
  counter(
    "mqttsn_link_frames_sent_total",
    "Frames the gateway handed to a link",
    labels,
    per((l) => l.framesSent),
  );
  counter(
    "mqttsn_link_send_refused_total",
    "Frames a link refused to send: too large, link down, unknown address, write queue full",
    labels,
    per((l) => l.sendRefused),
  );
  counter(
    "mqttsn_link_frames_dropped_total",
    "Frames a link received and dropped, by reason: oversize (above the MTU), bad_crc and malformed (SLIP framing)",
    [...labels, "reason"],
    () =>
      links().flatMap((l) =>
        DROP_REASONS.map((reason): Sample => [{ link: l.name, kind: l.kind, reason }, l.dropped[reason]]),
      ),
  );
  counter(
    "mqttsn_link_garbage_octets_total",
    "Serial and BLE: octets outside any frame",
    labels,
    per((l) => l.garbageOctets),
  );
  counter(
    "mqttsn_serial_lost_total",
    "Serial: times the port was lost (closed by the system, unplugged)",
    labels,
    per((l) => l.lost),
  );
  counter(
    "mqttsn_serial_reopened_total",
    "Serial: times the port was opened again after a loss",
    labels,
    per((l) => l.reopened),
  );
  counter(
    "mqttsn_ble_connects_total",
    "BLE: connections to peripherals made",
    labels,
    per((l) => l.connects),
  );
  counter(
    "mqttsn_ble_disconnects_total",
    "BLE: connections to peripherals ended",
    labels,
    per((l) => l.disconnects),
  );
  gauge(
    "mqttsn_ble_peripherals_connected",
    "BLE: peripherals connected now",
    labels,
    per((l) => l.connected),
  );
}
