import type { AccessConfig } from "./config";
import { fromMatches, parseFrom } from "./from";
import { clientIdMatches, filterCovers, topicMatches, withClientId } from "./patterns";

/** What an admitted client may do, with `%c` already replaced by its client id. */
export interface AccessGrant {
  /** Index of the access.clients entry that admitted it; undefined when admitted by default "allow". */
  entry: number | undefined;
  /** Its own upstream login; undefined: the gateway's (upstream.username / upstream.password). */
  username?: string;
  password?: string;
  /** Topic filters it may publish to; undefined: any topic. */
  publish?: string[];
  /** Topic filters it may subscribe within; undefined: any filter. */
  subscribe?: string[];
  /** Its own TLS client certificate and key (PEM files) for a TLS broker; undefined: the gateway's. */
  certFile?: string;
  keyFile?: string;
  /** Prefix of its topics at the broker (the entry's, else its link's); undefined: none. */
  mountpoint?: string;
}

/** Why a CONNECT is refused: no entry for the client id under default "deny", or entries for it but none from its link and address. */
export type AccessRefusal = "unknown-client" | "wrong-source";

export type ConnectDecision = { allowed: true; grant: AccessGrant } | { allowed: false; reason: AccessRefusal };

/** The mountpoint of the first access.mountpoints rule that holds the client's link and address. */
function linkMountpoint(access: AccessConfig, linkName: string, address: string): string | undefined {
  for (const m of access.mountpoints) if (fromAllows([m.from], linkName, address)) return m.mountpoint;
  return undefined;
}

/** The grant's mountpoint: the entry's, else the link's, with `%c` replaced. */
function withMountpoint(grant: AccessGrant, mountpoint: string | undefined, clientId: string): AccessGrant {
  if (mountpoint !== undefined) grant.mountpoint = withClientId(mountpoint, clientId);
  return grant;
}

function fromAllows(from: string[] | undefined, linkName: string, address: string): boolean {
  if (from === undefined) return true;
  return from.some((text) => {
    const rule = parseFrom(text);
    return rule !== undefined && fromMatches(rule, linkName, address);
  });
}

/**
 * Who may CONNECT, and as whom. Entries are tried in order; the first whose clientId matches and whose `from`
 * (when given) holds the client's link and address wins. A client id that some entry names, but only from
 * elsewhere, is refused whatever the default; a client id no entry names gets the default.
 */
export function decideConnect(
  access: AccessConfig,
  clientId: string,
  linkName: string,
  address: string,
): ConnectDecision {
  let named = false;
  for (let i = 0; i < access.clients.length; i++) {
    const e = access.clients[i]!;
    if (!clientIdMatches(e.clientId, clientId)) continue;
    named = true;
    if (!fromAllows(e.from, linkName, address)) continue;
    const grant: AccessGrant = { entry: i };
    if (e.username !== undefined) grant.username = withClientId(e.username, clientId);
    if (e.password !== undefined)
      grant.password = e.passwordFile !== undefined ? e.password : withClientId(e.password, clientId);
    if (e.publish !== undefined) grant.publish = e.publish.map((f) => withClientId(f, clientId));
    if (e.subscribe !== undefined) grant.subscribe = e.subscribe.map((f) => withClientId(f, clientId));
    if (e.certFile !== undefined && e.keyFile !== undefined) {
      grant.certFile = e.certFile;
      grant.keyFile = e.keyFile;
    }
    const mountpoint = e.mountpoint ?? linkMountpoint(access, linkName, address);
    return { allowed: true, grant: withMountpoint(grant, mountpoint, clientId) };
  }
  if (named) return { allowed: false, reason: "wrong-source" };
  if (access.default === "deny") return { allowed: false, reason: "unknown-client" };
  return {
    allowed: true,
    grant: withMountpoint({ entry: undefined }, linkMountpoint(access, linkName, address), clientId),
  };
}

/** Whether the grant lets its client publish to (or REGISTER) this topic name. */
export function mayPublish(grant: AccessGrant | undefined, topic: string): boolean {
  return grant?.publish === undefined || grant.publish.some((f) => topicMatches(f, topic));
}

/** Whether the grant lets its client subscribe to this filter: it must lie inside one of the allowed filters. */
export function maySubscribe(grant: AccessGrant | undefined, filter: string): boolean {
  return grant?.subscribe === undefined || grant.subscribe.some((f) => filterCovers(f, filter));
}
