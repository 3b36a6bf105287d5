import type { Link } from "../../transports/link";
import type { GatewayConfig } from "../config";
import type { Counters, Session } from "../session/types";
import type { SessionStoreCounters } from "../store/session-store";
import type { BrokerStatus } from "../upstream/broker-watch";
import type { AggregatingFigures, UpstreamConnectionState } from "../upstream/upstream";

/** One session the gateway holds, with where its client is reached. */
export interface DeviceEntry {
  session: Session;
  /** Link name, e.g. "udp:0.0.0.0:1884". */
  link: string;
  /** Address on the link; behind a forwarder (§5.5) followed by "|" and the wireless node id in hex. */
  address: string;
}

/** What the HTTP listener reads from a running gateway. Read-only: nothing here changes the gateway. */
export interface GatewayView {
  /** Date.now() when the gateway started. */
  startedAt: number;
  /** The gateway's clock, the one Session.lastHeard is read from. */
  now(): number;
  counters: Counters;
  /** The configuration in force (limits change on a reload). */
  config(): GatewayConfig;
  /** Every session: connected, in the connect handshake, asleep or awake, and ended ones kept with messages. */
  devices(): Iterable<DeviceEntry>;
  /** Sessions held now, without walking them. */
  deviceCount(): number;
  links: readonly Link[];
  /** The broker URL, credentials removed. */
  brokerUrl: string;
  brokerStatus(): BrokerStatus;
  /** Client connections to the broker by state; undefined when the upstream adapter does not tell. */
  upstreamStates(): Record<UpstreamConnectionState, number> | undefined;
  /** Aggregating mode's figures; undefined when no client can be aggregated. */
  aggregating(): AggregatingFigures | undefined;
  /** The durable session store's counters; undefined without a store. */
  storeCounters(): SessionStoreCounters | undefined;
}
