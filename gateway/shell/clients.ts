import { transition } from "../session/lifecycle";
import { predefinedMaps, TopicTable } from "../session/topics";
import type { UpstreamSession } from "../upstream/upstream";
import type { Client, Shell } from "./context";

/** The client table of the gateway: adding, ending and forgetting clients. */

export function addClient(shell: Shell, table: Map<string, Client>, key: string, clientId: string, c: Client): void {
  table.set(key, c);
  shell.clientCount++;
  shell.byClientId.set(clientId, c);
}

export function forget(shell: Shell, c: Client): void {
  if (c.ended) return;
  c.ended = true;
  const table = shell.byLink.get(c.link);
  if (table !== undefined && table.get(c.session.key) === c) {
    table.delete(c.session.key);
    shell.clientCount--;
  }
  if (shell.byClientId.get(c.session.clientId) === c) shell.byClientId.delete(c.session.clientId);
}

export function closeUpstream(shell: Shell, clientId: string, u: UpstreamSession, graceful: boolean): void {
  const done = u.close(graceful);
  shell.upstreamClosing.set(clientId, done);
  void done.then(() => {
    if (shell.upstreamClosing.get(clientId) === done) shell.upstreamClosing.delete(clientId);
  });
}

export function endClient(
  shell: Shell,
  c: Client,
  to: "disconnected" | "lost",
  reason: string,
  graceful: boolean,
): void {
  if (c.ended) return;
  if (to === "lost") shell.counters.clientsLost++;
  transition(c.session, to, reason, shell.ctx);
  if (c.upstream !== undefined) closeUpstream(shell, c.session.clientId, c.upstream, graceful);
  forget(shell, c);
}

export function topicTableFor(shell: Shell, clientId: string): TopicTable {
  const config = shell.config;
  const perClient = config.predefinedTopics.clients[clientId];
  const maps =
    perClient === undefined ? shell.globalPredefined : predefinedMaps(config.predefinedTopics.global, perClient);
  return new TopicTable(config.limits.maxTopicsPerClient, maps.idByName, maps.nameById);
}
