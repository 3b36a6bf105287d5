import type { SessionStore, StoredMessage, StoredSession } from "../store/session-store";
import type { Delivery } from "../session/types";
import type { Client, Shell } from "./context";
import { runForSession } from "./session-event";

/**
 * Persistent sessions (CleanSession 0) in the durable store: their records, for a restart, and the
 * QoS 1/2 messages the gateway acknowledged to the broker for them (written here first).
 */

export function storeOp(shell: Shell, op: string, clientId: string, p: Promise<unknown>): void {
  p.catch((err: Error) => shell.log.error("store-failed", { op, clientId, error: err.message }));
}

/** A message in custody of the store: its release deletes the stored copy once the client has it. */
export function storedDelivery(shell: Shell, store: SessionStore, clientId: string, m: StoredMessage): Delivery {
  return {
    topicName: m.topicName,
    payload: m.payload,
    qos: m.qos,
    retain: m.retain,
    storeSeq: m.seq,
    custody: "store",
    release: () => storeOp(shell, "deleteMessage", clientId, store.deleteMessage(clientId, m.seq)),
    reregistered: false,
  };
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
    subscriptions: [...s.subscriptions].map(([topicFilter, qos]) => ({ topicFilter, qos })),
    topicIds: [],
  };
  if (s.will !== undefined)
    record.will = { topicName: s.will.topic, payload: s.will.payload, qos: s.will.qos, retain: s.will.retain };
  return record;
}

/**
 * The session went to sleep (a persistent one not behind a forwarder is recorded for a restart), became
 * active again or changed its will (a recorded one is rewritten, so that a restart resumes what the client
 * has); a recorded one that CONNECTed again with CleanSession 1 is deleted.
 */
export function recordState(shell: Shell, c: Client, state: "asleep" | "active"): void {
  const store = shell.store;
  if (store === undefined || c.nodeId !== undefined) return;
  if (c.session.cleanSession) {
    // A recorded session CONNECTed again with CleanSession 1: nothing of it is to be resumed.
    if (c.persisted) recordEnded(shell, c, false);
    return;
  }
  if (state === "active" && !c.persisted) return;
  const clientId = c.session.clientId;
  c.persisted = true;
  store.putSession(storedSession(c, state)).then(
    (ok) => {
      if (!ok)
        shell.log.warn("limit-hit", { limit: "sleep.store.maxSessions", value: store.limits.maxSessions, clientId });
    },
    (err: Error) => shell.log.error("store-failed", { op: "putSession", clientId, error: err.message }),
  );
}

/**
 * The connection ended. A recorded session that keeps messages for its next CONNECT stays in the store
 * as "active" (a restart keeps its messages for that CONNECT, it does not resume it asleep); one with
 * nothing left is deleted. At shutdown the records stay as they are, for the restart.
 */
export function recordEnded(shell: Shell, c: Client, keep: boolean): void {
  if (shell.shuttingDown || !c.persisted || shell.store === undefined) return;
  c.persisted = false;
  const clientId = c.session.clientId;
  if (keep) storeOp(shell, "putSession", clientId, shell.store.putSession(storedSession(c, "active")));
  else storeOp(shell, "deleteSession", clientId, shell.store.deleteSession(clientId));
}

/**
 * Writes a queued message to the store (synced); the session hears "stored" and only then acknowledges it
 * to the broker, also when its connection has ended meanwhile (the session may be kept for its next
 * CONNECT). A refused write (store full, failing) leaves it with the broker, logged; so does a session
 * that is gone: the copy is deleted again.
 */
export function storeMessage(shell: Shell, c: Client, d: Delivery, store: SessionStore): void {
  const clientId = c.session.clientId;
  const session = c.session;
  if (!c.persisted) recordState(shell, c, "asleep");
  const qos = d.qos === 2 ? 2 : 1;
  const written = store
    .addMessage(clientId, { topicName: d.topicName, payload: d.payload, qos, retain: d.retain })
    .then(
      (result) => {
        if (!result.stored) {
          shell.log.warn("limit-hit", {
            limit: `sleep.store.${result.reason === "messages" ? "maxMessages" : "maxBytes"}`,
            clientId,
            topic: d.topicName,
            action: "left unacknowledged at the broker",
          });
          runForSession(shell, session, { kind: "stored", delivery: d, release: undefined }, () => undefined);
          return;
        }
        const deleteCopy = (): void =>
          storeOp(shell, "deleteMessage", clientId, store.deleteMessage(clientId, result.seq));
        runForSession(shell, session, { kind: "stored", delivery: d, release: deleteCopy }, deleteCopy);
      },
      (err: Error) => {
        shell.log.error("store-failed", { op: "addMessage", clientId, error: err.message, path: store.location });
        runForSession(shell, session, { kind: "stored", delivery: d, release: undefined }, () => undefined);
      },
    );
  // The upstream connection closes only once the writes are done, so their acknowledgements still go out.
  c.storing.add(written);
  void written.then(() => c.storing.delete(written));
}
