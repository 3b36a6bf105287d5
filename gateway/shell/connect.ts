import { MsgType, ReturnCode, type Bytes, type Message } from "../../protocol";
import type { Link } from "../../transports/link";
import { wakeSource } from "../sleep/supervision";
import { carryKept, isSleeping, takeOver } from "../sleep/transitions";
import { newSession } from "../session/session";
import type { TopicTable } from "../session/topics";
import { addClient, endClient, topicTableFor } from "./clients";
import { newClient, type Client, type Shell } from "./context";
import { discardKept, recordActive, takeKept } from "./durable-sleep";
import { sendTo } from "./send";

/** A CONNECT from a link address: a new session, replacing or taking over an older one of the same client id. */
export function onConnect(
  shell: Shell,
  link: Link,
  table: Map<string, Client>,
  key: string,
  address: string,
  nodeId: Bytes | undefined,
  m: Message & { type: MsgType.Connect },
): void {
  const { config, counters, log } = shell;
  const t = shell.now();
  const here = table.get(key);
  // §6.14: a CONNECT from a sleeping client starts a new session that delivers what the old one held.
  let carried: Client | undefined;
  if (here !== undefined) {
    const inHandshake =
      here.session.state !== "active" && here.session.state !== "awake" && here.session.state !== "asleep";
    if (here.session.clientId === m.clientId && isSleeping(here.session)) carried = here;
    if (here.session.clientId === m.clientId && inHandshake) {
      shell.run(here, { kind: "frame", message: m });
      return;
    }
    // §6.2 a new CONNECT starts a new session. A different client id from this address: the old client
    // is gone (its address was reused), so it is treated as lost and its will published.
    const sameClient = here.session.clientId === m.clientId;
    if (!sameClient) log.info("session-replaced", { key, oldClientId: here.session.clientId, clientId: m.clientId });
    endClient(
      shell,
      here,
      sameClient ? "disconnected" : "lost",
      sameClient ? "new CONNECT" : `address taken by client ${m.clientId}`,
      sameClient,
    );
  }
  const previous = shell.byClientId.get(m.clientId);
  let adopt: TopicTable | undefined =
    here !== undefined && here.session.clientId === m.clientId ? here.session.topics : undefined;
  if (previous !== undefined && previous !== here) {
    // Takeover: the same client id from a new address (NAT rebinding, a new radio path).
    counters.takeovers++;
    log.info("session-takeover", {
      clientId: m.clientId,
      from: `${previous.link.name} ${previous.address}`,
      to: `${link.name} ${address}`,
    });
    adopt = previous.session.topics;
    if (isSleeping(previous.session)) carried = previous;
    endClient(shell, previous, "disconnected", `taken over from ${link.name} ${address}`, true);
  }
  if (shell.clientCount >= config.limits.maxClients) {
    counters.congestionRefusals++;
    log.warn("limit-hit", { limit: "limits.maxClients", value: config.limits.maxClients, clientId: m.clientId });
    sendTo(link, address, nodeId, { type: MsgType.ConnAck, returnCode: ReturnCode.Congestion });
    return;
  }
  const topics = topicTableFor(shell, m.clientId);
  if (!m.cleanSession && adopt !== undefined) topics.adopt(adopt);
  const c = newClient(newSession(key, topics, t), link, address, nodeId);
  // Messages kept from an ended sleeping session: delivered first after CONNACK with CleanSession 0,
  // discarded with CleanSession 1 (MQTT 3.1.1 §3.1.2.4).
  if (m.cleanSession) discardKept(shell, m.clientId, "CONNECT with CleanSession 1");
  const kept = m.cleanSession ? undefined : takeKept(shell, m.clientId);
  if (kept !== undefined) {
    carryKept(c.session, kept);
    c.persisted = shell.store !== undefined;
  }
  if (carried !== undefined) {
    takeOver(carried.session, c.session);
    for (const [filter, qos] of carried.subscriptions) c.subscriptions.set(filter, qos);
    recordActive(shell, carried, c);
  }
  addClient(shell, table, key, m.clientId, c);
  shell.run(c, { kind: "frame", message: m });
}

/**
 * §6.14 PINGREQ(ClientId) for a sleeping session, from an address other than the session's: a spoofed
 * wake-up, ignored and counted, unless sleep.allowAddressChange lists the client id (NAT or NB-IoT
 * rebinding): then the session moves to the new address and wakes.
 */
export function onWakeFromElsewhere(
  shell: Shell,
  c: Client,
  link: Link,
  table: Map<string, Client>,
  key: string,
  address: string,
  nodeId: Bytes | undefined,
  m: Message,
): void {
  const clientId = c.session.clientId;
  const source = wakeSource(
    { link: c.link.name, address: c.session.key },
    { link: link.name, address: key },
    clientId,
    shell.allowAddressChange,
  );
  if (source !== "moved") {
    shell.counters.spoofedWakeups++;
    shell.log.warn("wake-ignored", {
      clientId,
      from: `${link.name} ${address}`,
      sleepingAt: `${c.link.name} ${c.address}`,
      reason: "PINGREQ from another address; list the client id in sleep.allowAddressChange if it may move",
    });
    return;
  }
  const oldTable = shell.byLink.get(c.link);
  if (oldTable !== undefined && oldTable.get(c.session.key) === c) oldTable.delete(c.session.key);
  shell.log.info("session-moved", { clientId, from: `${c.link.name} ${c.address}`, to: `${link.name} ${address}` });
  c.link = link;
  c.address = address;
  c.nodeId = nodeId;
  c.session.key = key;
  table.set(key, c);
  shell.run(c, { kind: "frame", message: m });
}
