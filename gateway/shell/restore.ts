import type { Link } from "../../transports/link";
import { restoreSleeping } from "../sleep/transitions";
import type { SessionStore } from "../store/session-store";
import { computeDeadline } from "../session/machine";
import { newSession } from "../session/session";
import { addClient, topicTableFor } from "./clients";
import { newClient, type Shell } from "./context";
import { deleteToken } from "./durable-sleep";
import { sinkFor } from "./upstream-sink";

/** Sleeping persistent sessions recorded before a restart: asleep again, their messages held, upstream resumed. */
export async function restoreSleepers(shell: Shell, links: Link[], store: SessionStore): Promise<void> {
  const { config, log, ctx } = shell;
  for (const record of await store.sessions()) {
    if (record.state === "active") {
      await restoreKept(shell, store, record.clientId);
      continue;
    }
    if (record.state !== "asleep" && record.state !== "awake") continue;
    const link = links.find((l) => l.name === record.link);
    const table = link === undefined ? undefined : shell.byLink.get(link);
    if (
      link === undefined ||
      table === undefined ||
      shell.clientCount >= config.limits.maxClients ||
      table.has(record.address)
    ) {
      log.warn("session-not-restored", {
        clientId: record.clientId,
        link: record.link,
        address: record.address,
        reason:
          link === undefined ? "no such link in this configuration" : "limits.maxClients reached or address in use",
      });
      continue;
    }
    const clientId = record.clientId;
    const messages = await store.messages(clientId);
    const c = newClient(
      newSession(record.address, topicTableFor(shell, clientId), shell.now()),
      link,
      record.address,
      undefined,
    );
    for (const x of record.subscriptions) c.subscriptions.set(x.topicFilter, x.qos);
    c.persisted = true;
    const will =
      record.will === undefined
        ? undefined
        : {
            topic: record.will.topicName,
            payload: record.will.payload,
            qos: record.will.qos,
            retain: record.will.retain,
          };
    const held = messages.map((m) => ({
      topicName: m.topicName,
      payload: m.payload,
      qos: m.qos,
      retain: m.retain,
      token: deleteToken(shell, store, clientId, m.seq),
    }));
    const refused = restoreSleeping(
      c.session,
      { clientId, keepAlive: record.keepAlive, duration: record.duration, lastHeardAt: record.lastHeardAt, will },
      held,
      ctx,
    );
    if (refused > 0)
      log.warn("sleep-buffer-refused", {
        clientId,
        messages: refused,
        action: "kept in the store only (buffer limits lowered since they were stored)",
      });
    addClient(shell, table, record.address, clientId, c);
    c.upstream = shell.upstream.open(
      { clientId, cleanSession: false, keepAlive: record.keepAlive, will },
      sinkFor(shell, c),
    );
    // The broker may have lost the session (the embedded broker restarts with the gateway): subscribe again.
    for (const [filter, qos] of c.subscriptions) c.upstream.subscribe(filter, qos, 0);
    c.session.deadline = computeDeadline(c.session, ctx);
    log.info("session-restored", { clientId, messages: messages.length, link: link.name, address: record.address });
  }
}

/** A session that ended (or was connected) with QoS 1/2 messages still stored: they wait again for its next CONNECT with CleanSession 0. */
async function restoreKept(shell: Shell, store: SessionStore, clientId: string): Promise<void> {
  const messages = await store.messages(clientId);
  if (messages.length === 0) return;
  const held = messages.map((m) => ({
    topicName: m.topicName,
    payload: m.payload,
    qos: m.qos,
    retain: m.retain,
    token: deleteToken(shell, store, clientId, m.seq),
  }));
  shell.kept.set(clientId, held);
  shell.log.info("sleep-messages-kept", {
    clientId,
    messages: held.length,
    reason: "restored from the session store after a restart",
    until: "CONNECT with CleanSession 0",
  });
}
