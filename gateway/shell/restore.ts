import type { Link } from "../../transports/link";
import { decideConnect } from "../access/decide";
import { mount, mountWill } from "../access/mountpoint";
import { transition } from "../session/lifecycle";
import { newSession } from "../session/session";
import type { Session } from "../session/types";
import { restoreKept, restoreSleeping } from "../sleep/transitions";
import type { SessionStore } from "../store/session-store";
import { addClient, keepEnded, routeKey, topicTableFor } from "./clients";
import { newClient, type Shell } from "./context";
import { storedDelivery } from "./durable-sleep";
import { loginOf } from "./login";
import { sinkFor } from "./upstream-sink";

/**
 * Persistent sessions recorded before a restart: sleepers asleep again with their messages queued and
 * their upstream connection resumed; sessions that had ended (or were active) with messages stored wait
 * for their next CONNECT with CleanSession 0.
 */
export async function restoreSessions(shell: Shell, links: Link[], store: SessionStore): Promise<void> {
  const { config, log, ctx } = shell;
  for (const record of await store.sessions()) {
    const clientId = record.clientId;
    const messages = (await store.messages(clientId)).map((m) => storedDelivery(shell, store, clientId, m));
    const link = links.find((l) => l.name === record.link);
    const table = link === undefined ? undefined : shell.byLink.get(link);
    const key = link === undefined ? "" : routeKey(link, record.address);
    const session = newSession(key, topicTableFor(shell, clientId), shell.now(), ctx.queueLimitsFor(clientId));
    if (record.state === "active") {
      if (messages.length > 0) keepRestored(shell, session, clientId, messages);
      continue;
    }
    // The access config of this start decides again: the sleeper is resumed with the grant it would get now.
    const decision =
      config.access === undefined || link === undefined
        ? undefined
        : decideConnect(config.access, clientId, link.name, record.address);
    if (
      link === undefined ||
      table === undefined ||
      shell.clientCount >= config.limits.maxClients ||
      table.has(key) ||
      decision?.allowed === false
    ) {
      log.warn("session-not-restored", {
        clientId,
        link: record.link,
        address: record.address,
        reason:
          link === undefined
            ? "no such link in this configuration"
            : decision?.allowed === false
              ? `refused by access (${decision.reason})`
              : "limits.maxClients reached or address in use",
        action: "messages kept for its next CONNECT",
      });
      if (messages.length > 0) keepRestored(shell, session, clientId, messages);
      continue;
    }
    const will =
      record.will === undefined
        ? undefined
        : {
            topic: record.will.topicName,
            payload: record.will.payload,
            qos: record.will.qos,
            retain: record.will.retain,
          };
    restoreSleeping(
      session,
      {
        clientId,
        keepAlive: record.keepAlive,
        duration: record.duration,
        lastHeardAt: record.lastHeardAt,
        will,
        subscriptions: record.subscriptions.map((x) => [x.topicFilter, x.qos]),
      },
      messages,
      ctx,
    );
    const grant = decision?.allowed === true ? decision.grant : undefined;
    const c = newClient(session, { key, link, address: record.address, nodeId: undefined });
    c.persisted = true;
    addClient(shell, c);
    // DESIGN rule 8: the grant enters the session through its machine, which also sets its next deadline.
    shell.run(c, { kind: "restored", access: grant });
    c.upstream = shell.upstream.open(
      {
        clientId,
        cleanSession: false,
        keepAlive: record.keepAlive,
        will: mountWill(grant?.mountpoint, will),
        ...loginOf(shell, grant, clientId),
      },
      sinkFor(shell, c),
    );
    // The broker may have lost the session (the embedded broker restarts with the gateway): subscribe again.
    for (const [filter, qos] of session.subscriptions) c.upstream.subscribe(mount(grant?.mountpoint, filter), qos, 0);
    log.info("session-restored", { clientId, messages: messages.length, link: link.name, address: record.address });
  }
}

function keepRestored(
  shell: Shell,
  session: Session,
  clientId: string,
  messages: ReturnType<typeof storedDelivery>[],
): void {
  restoreKept(session, clientId, messages);
  transition(session, "disconnected", "restored from the session store after a restart", shell.ctx);
  keepEnded(shell, session);
}
