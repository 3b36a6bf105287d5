import type { Link } from "../../transports/link";
import { decideConnect } from "../access/decide";
import { mount, mountWill } from "../access/mountpoint";
import { step } from "../session/machine";
import { newSession } from "../session/session";
import type { Delivery, Effect, Session } from "../session/types";
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
    const grant = decision?.allowed === true ? decision.grant : undefined;
    // The session's identity in the tables, as for a CONNECT (connect.ts); everything else it gets from its machine.
    session.clientId = clientId;
    const c = newClient(session, { key, link, address: record.address, nodeId: undefined });
    c.persisted = true;
    addClient(shell, c);
    // DESIGN rule 8: the sleeper, its messages and its grant enter the session through its machine.
    shell.run(c, {
      kind: "restored",
      sleeper: {
        clientId,
        keepAlive: record.keepAlive,
        duration: record.duration,
        lastHeardAt: record.lastHeardAt,
        will,
        subscriptions: record.subscriptions.map((x) => [x.topicFilter, x.qos]),
      },
      messages,
      access: grant,
    });
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

/**
 * DESIGN rule 8: the stored messages enter the session through its machine. No connection holds the session, so
 * it is stepped alone, as runForSession steps a kept session, and then kept for its next CONNECT.
 */
function keepRestored(shell: Shell, session: Session, clientId: string, messages: Delivery[]): void {
  const out: Effect[] = [];
  step(session, { kind: "restoredKept", clientId, messages }, shell.now(), shell.ctx, out);
  for (const e of out) if (e.kind === "release") e.release();
  keepEnded(shell, session);
}
