import { LazySet } from "../lazy-collections";
import type { Bytes, DecodeOptions } from "../../protocol";
import type { Link, Log } from "../../transports/link";
import type { ConnectAdmission } from "../admission/connect-admission";
import type { GatewayConfig } from "../config";
import type { SessionStore } from "../store/session-store";
import type { predefinedMaps } from "../session/topics";
import type { Counters, Route, Session, SessionContext, SessionEvent } from "../session/types";
import type { Upstream, UpstreamSession } from "../upstream/upstream";

/** Where a client is reached: a link, an address on it and, behind a forwarder (§5.5), its wireless node id. */
export interface LinkRoute extends Route {
  link: Link;
  address: string;
  nodeId: Bytes | undefined;
}

/** A session's connection: the session plus the I/O it needs, its route back to the client and its upstream connection. */
export interface Client {
  session: Session;
  link: Link;
  address: string;
  /** Forwarder encapsulation, §5.5: answers go back wrapped with this wireless node id. */
  nodeId: Bytes | undefined;
  upstream: UpstreamSession | undefined;
  /** The connection has ended (or failed): late events for it are ignored. */
  ended: boolean;
  /** The session's record is in the durable store. */
  persisted: boolean;
  /** Store writes under way: the upstream connection is closed only after them (their acknowledgements go out first). */
  storing: Set<Promise<void>>;
}

export function newClient(session: Session, route: LinkRoute): Client {
  return {
    session,
    link: route.link,
    address: route.address,
    nodeId: route.nodeId,
    upstream: undefined,
    ended: false,
    persisted: false,
    storing: new LazySet(),
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
  /** The durable store of persistent sessions' messages; undefined when sleep.store.path is "". */
  store: SessionStore | undefined;
  upstream: Upstream;
  globalPredefined: ReturnType<typeof predefinedMaps>;
  allowAddressChange: Set<string>;
  /** The connected clients of each link, by route key (address, with the forwarder's node id, §5.5). */
  byLink: Map<Link, Map<string, Client>>;
  byClientId: Map<string, Client>;
  /**
   * CleanSession 0 sessions whose connection ended while they still held messages, by client id, for
   * their next CONNECT. At most sleep.store.maxSessions; the oldest is discarded (counted, logged) beyond.
   */
  ended: Map<string, Session>;
  clientCount: number;
  shuttingDown: boolean;
  /** Per-source CONNECT limits (shell/admission.ts). */
  admission: ConnectAdmission<Session>;
  /** Steps a client's session with an event and executes the effects (see effects.ts). */
  run: (c: Client, event: SessionEvent) => void;
}
