import { takeAcknowledged, wouldHold, type Held } from "../sleep/transitions";
import type { SessionStore, StoredSession } from "../store/session-store";
import type { Delivery } from "../session/types";
import type { Client, Shell } from "./context";

/** Sleeping persistent sessions in the durable store: their records and the QoS 1/2 messages held for them. */

export function storeOp(shell: Shell, op: string, clientId: string, p: Promise<unknown>): void {
  p.catch((err: Error) => shell.log.error("store-failed", { op, clientId, error: err.message }));
}

/** The token that deletes a held message from the store once it is delivered. */
export function deleteToken(shell: Shell, store: SessionStore, clientId: string, seq: number): () => void {
  return () => storeOp(shell, "deleteMessage", clientId, store.deleteMessage(clientId, seq));
}

export function storedSession(c: Client, state: StoredSession["state"]): StoredSession {
  const s = c.session;
  const record: StoredSession = {
    clientId: s.clientId,
    state,
    duration: s.sleep !== undefined ? s.sleep.duration : 0,
    keepAlive: s.duration,
    lastHeardAt: Math.max(0, Math.round(s.lastHeard)),
    link: c.link.name,
    address: c.address,
    subscriptions: [...c.subscriptions].map(([topicFilter, qos]) => ({ topicFilter, qos })),
    topicIds: [],
  };
  if (s.will !== undefined)
    record.will = { topicName: s.will.topic, payload: s.will.payload, qos: s.will.qos, retain: s.will.retain };
  return record;
}

/** The client went to sleep: a persistent session not behind a forwarder is recorded for a restart. */
export function recordAsleep(shell: Shell, c: Client): void {
  const store = shell.store;
  if (store === undefined || c.session.cleanSession || c.nodeId !== undefined) return;
  const clientId = c.session.clientId;
  c.persisted = true;
  store.putSession(storedSession(c, "asleep")).then(
    (ok) => {
      if (!ok)
        shell.log.warn("limit-hit", { limit: "sleep.store.maxSessions", value: store.limits.maxSessions, clientId });
    },
    (err: Error) => shell.log.error("store-failed", { op: "putSession", clientId, error: err.message }),
  );
}

/**
 * A session ended (lost or disconnected). A sleeping persistent one keeps its QoS 1/2 messages for the next
 * CONNECT with CleanSession 0 (its record stays in the store as "active", so a restart does not resume it
 * as asleep); QoS 0 messages and everything of a clean session are discarded.
 */
export function dropRecord(shell: Shell, c: Client): void {
  if (shell.shuttingDown) return;
  const clientId = c.session.clientId;
  const { kept, discarded } = takeAcknowledged(c.session);
  if (discarded > 0) {
    shell.counters.sleepDiscarded += discarded;
    shell.log.warn("sleep-buffer-discarded", { clientId, messages: discarded, reason: c.session.state });
  }
  if (kept.length > 0) keepForReconnect(shell, clientId, kept, c.session.state);
  if (!c.persisted || shell.store === undefined) return;
  c.persisted = false;
  if (kept.length > 0) storeOp(shell, "putSession", clientId, shell.store.putSession(storedSession(c, "active")));
  else storeOp(shell, "deleteSession", clientId, shell.store.deleteSession(clientId));
}

function keepForReconnect(shell: Shell, clientId: string, kept: Held[], reason: string): void {
  shell.kept.delete(clientId);
  const oldest = shell.kept.entries().next();
  if (shell.kept.size >= shell.config.sleep.store.maxSessions && oldest.done !== true) {
    discardKept(
      shell,
      oldest.value[0],
      `limit sleep.store.maxSessions (${shell.config.sleep.store.maxSessions}) of ended sessions holding messages reached`,
    );
  }
  shell.kept.set(clientId, kept);
  shell.log.info("sleep-messages-kept", {
    clientId,
    messages: kept.length,
    reason,
    until: "CONNECT with CleanSession 0",
  });
}

/** Discards the messages kept for an ended session (a CONNECT with CleanSession 1, or the table full): logged, counted, deleted from the store. */
export function discardKept(shell: Shell, clientId: string, reason: string): void {
  const kept = shell.kept.get(clientId);
  if (kept === undefined) return;
  shell.kept.delete(clientId);
  shell.counters.sleepDiscarded += kept.length;
  shell.log.warn("sleep-buffer-discarded", { clientId, messages: kept.length, reason });
  if (shell.store !== undefined) storeOp(shell, "deleteSession", clientId, shell.store.deleteSession(clientId));
}

/** The messages kept for an ended session, removed from the table for the session a CONNECT with CleanSession 0 starts. */
export function takeKept(shell: Shell, clientId: string): Held[] | undefined {
  const kept = shell.kept.get(clientId);
  shell.kept.delete(clientId);
  return kept;
}

/** A sleeping client connected again elsewhere: active now, not to be resumed as sleeping after a restart; its messages stay in the store until delivered. */
export function recordActive(shell: Shell, carried: Client, c: Client): void {
  if (!carried.persisted || shell.store === undefined) return;
  c.persisted = true;
  storeOp(shell, "putSession", carried.session.clientId, shell.store.putSession(storedSession(carried, "active")));
}

/** After a store write: the messages that arrived meanwhile, in order, until one needs the store again. */
function drainBacklog(c: Client): void {
  while (!c.writing && c.backlog.length > 0) (c.backlog.shift() as () => void)();
}

/**
 * A QoS 1/2 message for a sleeping persistent client: written to the store (synced) and only then
 * acknowledged upstream. Messages arriving meanwhile wait, so the order of arrival is kept. No room in
 * the buffer or the store: it stays unacknowledged upstream.
 */
export function holdDurably(
  shell: Shell,
  c: Client,
  topic: string,
  payload: Uint8Array,
  qos: 1 | 2,
  retain: boolean,
  ack: () => void,
  store: SessionStore,
): void {
  if (!wouldHold(c.session, topic, payload)) {
    shell.run(c, { kind: "upMessage", delivery: { topic, payload, qos, retain, token: ack, reregistered: false } });
    return;
  }
  const clientId = c.session.clientId;
  const done = (delivery: Delivery): void => {
    c.writing = false;
    shell.run(c, { kind: "upMessage", delivery });
    drainBacklog(c);
  };
  const refused: Delivery = { topic, payload, qos, retain, token: ack, reregistered: false, storeRefused: true };
  c.writing = true;
  store.addMessage(clientId, { topicName: topic, payload, qos, retain }).then(
    (result) => {
      if (!result.stored) {
        shell.log.warn("limit-hit", {
          limit: `sleep.store.${result.reason === "messages" ? "maxMessages" : "maxBytes"}`,
          clientId,
          topic,
        });
        done(refused);
        return;
      }
      // On disk: now the broker may have its acknowledgement.
      ack();
      done({
        topic,
        payload,
        qos,
        retain,
        token: deleteToken(shell, store, clientId, result.seq),
        reregistered: false,
        durable: true,
      });
    },
    (err: Error) => {
      shell.log.error("store-failed", { op: "addMessage", clientId, error: err.message, path: store.location });
      done(refused);
    },
  );
}
