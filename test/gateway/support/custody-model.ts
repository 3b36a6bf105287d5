import type { Counters, Delivery, Effect, Session, SessionContext } from "../../../gateway/session/types";

/**
 * What surrounds one session in the gateway, modelled for property tests: the upstream connection
 * (connecting, open or none; each connection numbered), the durable store (writes under way, copies
 * kept) and an account of every message the broker handed over. The model carries out the session's
 * effects as the shell does and checks the custody rules of the session core:
 *
 * - a "broker" record belongs to the connection that is open now (its acknowledgement can still be sent);
 *   a message is acknowledged upstream at most once, and never on a connection that is gone;
 * - a "store" record has been acknowledged upstream and has its one copy in the store; clean sessions hold none;
 * - a record is held once (queue or in flight), and leaves the session once the client has it;
 * - every message acknowledged upstream is acknowledged by the client or still in custody (queue, in
 *   flight, or the store), except those given up and counted: dropped (deliveriesDropped), or discarded
 *   and refused by a clean session (sleepDiscarded, sleepRefused).
 */

interface Account {
  /** The upstream connection that brought the message. */
  connection: number;
  brokerAcked: boolean;
  /** The client acknowledged it (PUBACK 0x00, or PUBREC for QoS 2) and the session let it go. */
  clientHas: boolean;
  /** Copies in the store. */
  copies: number;
  /** Given up, and counted as such. */
  givenUp: boolean;
}

export type Connection = "none" | "connecting" | "open";

export class CustodyModel {
  connection: Connection = "none";
  /** Number of the current upstream connection. */
  connectionId = 0;
  /**
   * Connections the session closed itself: the shell keeps such a connection open until the store writes
   * under way are done, so their acknowledgements still go out on it. A connection the broker dropped, or
   * one replaced, carries nothing more.
   */
  readonly draining = new Set<number>();
  /** Messages with a `store` effect whose write has not finished. */
  readonly storing: Delivery[] = [];
  private readonly accounts = new Map<Delivery, Account>();
  private nextId = 1;

  constructor(private readonly ctx: SessionContext) {}

  /** A message from the broker on the open connection, topic name plus a payload of `size` octets. */
  message(topicName: string, qos: 0 | 1 | 2, size: number): Delivery {
    const id = this.nextId++;
    const payload = new Uint8Array(size);
    payload[0] = id % 256;
    const account: Account = {
      connection: this.connectionId,
      brokerAcked: false,
      clientHas: false,
      copies: 0,
      givenUp: false,
    };
    const d: Delivery = {
      topicName,
      payload,
      qos,
      retain: false,
      custody: qos === 0 ? "none" : "broker",
      release:
        qos === 0
          ? undefined
          : () => {
              if (account.brokerAcked) throw new Error(`message ${id} acknowledged upstream twice`);
              const current = account.connection === this.connectionId && this.connection === "open";
              if (!current && !this.draining.has(account.connection))
                throw new Error(
                  `message ${id} acknowledged on upstream connection ${account.connection}, which is gone`,
                );
              account.brokerAcked = true;
            },
      reregistered: false,
    };
    this.accounts.set(d, account);
    return d;
  }

  /** The store has written one of the messages under way: the copy exists, `release` deletes it. */
  stored(d: Delivery): () => void {
    const account = this.account(d);
    account.copies++;
    let deleted = false;
    return () => {
      if (deleted) throw new Error("a stored copy deleted twice");
      deleted = true;
      account.copies--;
    };
  }

  /** Carries out the effects of one step, in order, as the shell does. */
  execute(s: Session, effects: readonly Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case "release":
          e.release();
          break;
        case "store":
          if (!this.ctx.durable) throw new Error("store effect without a durable store");
          if (e.delivery.qos === 0) throw new Error("a QoS 0 message written to the store");
          this.storing.push(e.delivery);
          break;
        case "upConnect":
          this.connectionId++;
          this.connection = "connecting";
          break;
        case "upReplace":
          if (this.connection === "none") throw new Error("upReplace without an upstream connection");
          this.connectionId++;
          this.connection = "connecting";
          break;
        case "upClose":
          if (this.connection !== "none" && this.storing.length > 0) this.draining.add(this.connectionId);
          this.connectionId++;
          this.connection = "none";
          break;
        case "end":
          checkEnded(s, e.keep);
          break;
        default:
          break;
      }
    }
  }

  /**
   * Checks the custody rules after a step. `answered`: the record the client has just acknowledged
   * (PUBACK 0x00 or PUBREC to the PUBLISH in flight before the step), if any. `before`: the counters
   * before the step.
   */
  check(s: Session, answered: Delivery | undefined, before: Counters): void {
    const held = new Set<Delivery>();
    const hold = (d: Delivery): void => {
      if (held.has(d)) throw new Error(`${d.topicName}: one record held twice`);
      held.add(d);
    };
    for (const d of s.queue.toArray()) hold(d);
    if (s.inFlight !== undefined && s.inFlight.kind !== "pubrel") hold(s.inFlight.delivery);
    if (answered !== undefined && !held.has(answered)) this.account(answered).clientHas = true;

    for (const d of held) {
      const a = this.account(d);
      if (a.clientHas) throw new Error(`${d.topicName}: still held after the client acknowledged it`);
      if (d.custody === "broker") {
        // The one in flight when its CleanSession 0 connection went keeps custody "broker" with nothing left to
        // acknowledge: the client may still answer it, the broker sends it again, and it is never kept.
        const inFlightOfGoneConnection =
          s.inFlight !== undefined &&
          s.inFlight.delivery === d &&
          !s.cleanSession &&
          a.connection !== this.connectionId;
        const drainingWrite = d.storing === true && this.draining.has(a.connection);
        if (inFlightOfGoneConnection && !drainingWrite) {
          if (d.release !== undefined || a.brokerAcked)
            throw new Error(`${d.topicName}: in flight from a gone connection, yet still acknowledgeable`);
          continue;
        }
        if (d.release === undefined || a.brokerAcked)
          throw new Error(`${d.topicName}: "broker" record with nothing left to acknowledge`);
        // Being written to the store, it may wait for its write on a connection the session closed itself.
        if (a.connection !== this.connectionId && !drainingWrite)
          throw new Error(`${d.topicName}: "broker" record of upstream connection ${a.connection}, which is gone`);
      } else if (d.custody === "store") {
        if (!a.brokerAcked || a.copies !== 1 || d.release === undefined)
          throw new Error(`${d.topicName}: "store" record without its one stored copy`);
        if (s.cleanSession) throw new Error(`${d.topicName}: a clean session holds a stored record`);
      } else if (d.release !== undefined) {
        throw new Error(`${d.topicName}: record without custody still has a release`);
      }
    }

    let lost = 0;
    for (const [d, a] of this.accounts) {
      if (a.copies > 1) throw new Error(`${d.topicName}: ${a.copies} stored copies of one message`);
      if (a.copies > 0 && !held.has(d)) throw new Error(`${d.topicName}: stored copy of a message no longer held`);
      if (!a.brokerAcked || a.clientHas || a.givenUp || held.has(d)) continue;
      a.givenUp = true;
      lost++;
    }
    const c = this.ctx.counters;
    const counted =
      c.deliveriesDropped -
      before.deliveriesDropped +
      (s.cleanSession ? c.sleepDiscarded - before.sleepDiscarded + c.sleepRefused - before.sleepRefused : 0);
    if (lost > counted)
      throw new Error(`${lost} message(s) acknowledged upstream left custody, only ${counted} given up and counted`);
  }

  private account(d: Delivery): Account {
    const a = this.accounts.get(d);
    if (a === undefined) throw new Error(`${d.topicName}: a record the broker never sent`);
    return a;
  }
}

/** An ended connection keeps messages only for a CleanSession 0 session, and then only the stored ones (MQTT 3.1.1 §4.4). */
function checkEnded(s: Session, keep: boolean): void {
  // QoS 2 MsgIds the client may have seen are kept too (the broker sends those messages again, §6.7).
  if (keep !== (s.queue.length > 0 || s.qos2Sent.size > 0))
    throw new Error(`end keep=${keep} with ${s.queue.length} queued and ${s.qos2Sent.size} QoS 2 MsgIds`);
  if (keep && s.cleanSession) throw new Error("a clean session kept messages after its end");
  if (s.inFlight !== undefined) throw new Error("an ended session has a message in flight");
  for (const d of s.queue.toArray()) {
    if (d.qos === 0) throw new Error("an ended session kept a QoS 0 message");
    // One being written stays: its acknowledgement goes out on the connection kept open for the write.
    if (d.custody === "broker" && d.storing !== true)
      throw new Error("an ended session kept a record the broker sends again");
  }
}
