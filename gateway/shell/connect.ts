import { MsgType, ReturnCode, type Message } from "../../protocol";
import type { AccessGrant } from "../access/decide";
import { newSession } from "../session/session";
import { addClient, topicTableFor } from "./clients";
import { newClient, type Client, type LinkRoute, type Shell } from "./context";
import { sendTo } from "./send";

/**
 * A CONNECT from a route. The session of that client id decides what it means (session machine,
 * handleConnect): the shell only finds the session, or makes one, and passes the event on.
 */
export function onConnect(
  shell: Shell,
  table: Map<string, Client>,
  route: LinkRoute,
  m: Message & { type: MsgType.Connect },
  access: AccessGrant | undefined,
): void {
  const { key, link, address, nodeId } = route;
  const live = shell.byClientId.get(m.clientId);
  const here = table.get(key);
  if (here !== undefined && here !== live) shell.run(here, { kind: "addressTaken", by: m.clientId });
  if (live !== undefined) {
    shell.run(live, { kind: "connect", message: m, route, access });
    return;
  }
  if (shell.clientCount >= shell.config.limits.maxClients) {
    shell.counters.congestionRefusals++;
    shell.log.warn("limit-hit", {
      limit: "limits.maxClients",
      value: shell.config.limits.maxClients,
      clientId: m.clientId,
    });
    sendTo(link, address, nodeId, { type: MsgType.ConnAck, returnCode: ReturnCode.Congestion });
    return;
  }
  const kept = shell.ended.get(m.clientId);
  shell.ended.delete(m.clientId);
  const session =
    kept ?? newSession(key, topicTableFor(shell, m.clientId), shell.now(), shell.ctx.queueLimitsFor(m.clientId));
  session.key = key;
  session.clientId = m.clientId;
  const c = newClient(session, route);
  c.persisted = kept !== undefined && shell.store !== undefined;
  addClient(shell, c);
  shell.run(c, { kind: "connect", message: m, route, access });
}

/** PINGREQ(ClientId) for a sleeping session from another route: the session decides (moved, or a spoofed wake-up). */
export function onWakeFromElsewhere(shell: Shell, c: Client, route: LinkRoute, m: Message): void {
  shell.run(c, {
    kind: "wakeFrom",
    message: m,
    route,
    mayMove: shell.allowAddressChange.has(c.session.clientId),
  });
}
