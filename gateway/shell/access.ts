import { MsgType, ReturnCode, type Message } from "../../protocol";
import { decideConnect, type AccessGrant } from "../access/decide";
import type { LinkRoute, Shell } from "./context";
import { sendTo } from "./send";

/** A CONNECT admitted with this grant (undefined: no `access` key), or refused. */
export type AccessResult = { admitted: true; grant: AccessGrant | undefined } | { admitted: false };

/**
 * The access config's word on a CONNECT (gateway/access/decide.ts). A refused client hears CONNACK 0x03
 * ("not supported", §5.3.10), the refusal is counted by reason and logged, and no session is touched: a live
 * session of that client id stays where it is.
 */
export function admitAccess(shell: Shell, route: LinkRoute, m: Message & { type: MsgType.Connect }): AccessResult {
  const { link, address, nodeId } = route;
  const access = shell.config.access;
  if (access === undefined) return { admitted: true, grant: undefined };
  const decision = decideConnect(access, m.clientId, link.name, address);
  if (decision.allowed) return { admitted: true, grant: decision.grant };
  if (decision.reason === "unknown-client") shell.counters.accessUnknownClientRefusals++;
  else shell.counters.accessWrongSourceRefusals++;
  shell.log.warn("access-refused", { clientId: m.clientId, link: link.name, address, reason: decision.reason });
  sendTo(link, address, nodeId, { type: MsgType.ConnAck, returnCode: ReturnCode.NotSupported });
  return { admitted: false };
}
