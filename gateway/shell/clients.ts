import type { Link } from "../../transports/link";
import { discardAll } from "../session/custody";
import { predefinedMaps, TopicTable } from "../session/topics";
import type { Effect, Session } from "../session/types";
import type { Client, LinkRoute, Shell } from "./context";
import { storeOp } from "./durable-sleep";

/** The client tables of the gateway: adding, moving and forgetting connections, and the ended sessions kept for a CONNECT. */

export function routeKey(link: Link, address: string): string {
  return `${link.name} ${address}`;
}

export function addClient(shell: Shell, c: Client): void {
  const table = shell.byLink.get(c.link);
  if (table !== undefined) table.set(c.session.key, c);
  shell.clientCount++;
  shell.byClientId.set(c.session.clientId, c);
}

export function forget(shell: Shell, c: Client): void {
  if (c.ended) return;
  c.ended = true;
  const table = shell.byLink.get(c.link);
  if (table !== undefined && table.get(c.session.key) === c) table.delete(c.session.key);
  shell.clientCount--;
  if (shell.byClientId.get(c.session.clientId) === c) shell.byClientId.delete(c.session.clientId);
}

/** The client is reached at a new route: its old table entry goes, the new one comes. */
export function rebind(shell: Shell, c: Client, route: LinkRoute, oldKey: string): void {
  const oldTable = shell.byLink.get(c.link);
  if (oldTable !== undefined && oldTable.get(oldKey) === c) oldTable.delete(oldKey);
  c.link = route.link;
  c.address = route.address;
  c.nodeId = route.nodeId;
  const table = shell.byLink.get(route.link);
  if (table !== undefined) table.set(route.key, c);
}

/** Keeps an ended CleanSession 0 session that still holds messages, for its next CONNECT; bounded, oldest discarded. */
export function keepEnded(shell: Shell, s: Session): void {
  shell.ended.delete(s.clientId);
  const limit = shell.config.sleep.store.maxSessions;
  for (const [clientId, oldest] of shell.ended) {
    if (shell.ended.size < limit) break;
    shell.ended.delete(clientId);
    discardEnded(shell, oldest, `limit sleep.store.maxSessions (${limit}) of ended sessions holding messages reached`);
  }
  shell.ended.set(s.clientId, s);
  shell.log.info("session-kept", {
    clientId: s.clientId,
    messages: s.queue.length,
    until: "CONNECT with CleanSession 0",
  });
}

function discardEnded(shell: Shell, s: Session, reason: string): void {
  const out: Effect[] = [];
  discardAll(s, reason, shell.ctx, out);
  for (const e of out) if (e.kind === "release") e.release();
  if (shell.store !== undefined) storeOp(shell, "deleteSession", s.clientId, shell.store.deleteSession(s.clientId));
}

export function topicTableFor(shell: Shell, clientId: string): TopicTable {
  const config = shell.config;
  const perClient = config.predefinedTopics.clients[clientId];
  const maps =
    perClient === undefined ? shell.globalPredefined : predefinedMaps(config.predefinedTopics.global, perClient);
  return new TopicTable(config.limits.maxTopicsPerClient, maps.idByName, maps.nameById);
}
