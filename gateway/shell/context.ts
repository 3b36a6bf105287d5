import type { Bytes, DecodeOptions } from "../../protocol";
import type { Link, Log } from "../../transports/link";
import type { GatewayConfig } from "../config";
import type { Held } from "../sleep/transitions";
import type { SessionStore } from "../store/session-store";
import type { predefinedMaps } from "../session/topics";
import type { Counters, Session, SessionContext, SessionEvent } from "../session/types";
import type { Upstream, UpstreamSession } from "../upstream/upstream";

/** A session plus the I/O it needs: its route back to the client and its upstream connection. */
export interface Client {
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

export function newClient(session: Session, link: Link, address: string, nodeId: Bytes | undefined): Client {
  return {
    session,
    link,
    address,
    nodeId,
    upstream: undefined,
    ended: false,
    subscriptions: new Map(),
    persisted: false,
    writing: false,
    backlog: [],
  };
}

/** Everything the parts of the gateway's I/O shell share: one object per running gateway. */
export interface Shell {
  config: GatewayConfig;
  log: Log;
  /** Clock, milliseconds. */
  now: () => number;
  counters: Counters;
  ctx: SessionContext;
  decodeOptions: DecodeOptions;
  /** The durable store of sleeping persistent sessions; undefined when sleep.store.path is "". */
  store: SessionStore | undefined;
  upstream: Upstream;
  globalPredefined: ReturnType<typeof predefinedMaps>;
  allowAddressChange: Set<string>;
  /** The client table of each link, by address (with the forwarder's node id, §5.5). */
  byLink: Map<Link, Map<string, Client>>;
  byClientId: Map<string, Client>;
  /**
   * QoS 1/2 messages of ended sleeping persistent sessions, by client id, for their next CONNECT with
   * CleanSession 0 (see takeAcknowledged). Each list is bounded by the client's sleep buffer limits; at
   * most sleep.store.maxSessions client ids, the oldest discarded when full.
   */
  kept: Map<string, Held[]>;
  clientCount: number;
  shuttingDown: boolean;
  /** Upstream connections still closing, by client id: a new connection of that id waits for it. */
  upstreamClosing: Map<string, Promise<void>>;
  /** Steps a client's session with an event and executes the effects (see effects.ts). */
  run: (c: Client, event: SessionEvent) => void;
}
