import fc from "fast-check";
import { decode, MsgType, type Bytes, type Message } from "../../../protocol";
import type { Delivery, Session, SessionEvent } from "../../../gateway/session/types";
import type { CustodyModel } from "./custody-model";

/**
 * Random events for one session machine, as fast-check arbitraries: each is drawn as an Act and turned
 * into a SessionEvent against the session (and, for the modelled runs, its surroundings) when its turn comes.
 */

export const CLIENT = "f";

/** Frames a message type with an arbitrary body; only those that decode are fed to the session. */
export const anyMessage = fc
  .tuple(
    fc.constantFrom(
      0x00,
      0x01,
      0x02,
      0x04,
      0x05,
      0x06,
      0x07,
      0x08,
      0x09,
      0x0a,
      0x0b,
      0x0c,
      0x0d,
      0x0e,
      0x0f,
      0x10,
      0x12,
      0x13,
      0x14,
      0x15,
      0x16,
      0x17,
      0x18,
      0x1a,
      0x1b,
      0x1c,
      0x1d,
    ),
    fc.uint8Array({ maxLength: 12 }),
  )
  .map(([type, body]) => {
    const frame = Uint8Array.from([body.length + 2, type, ...body]);
    const m = decode(frame as unknown as Bytes, 0, frame.length);
    return m.type === "error" ? undefined : m;
  })
  .filter((m): m is Message => m !== undefined);

/** What happens next, resolved against the session and its surroundings when it is its turn. */
export type Act =
  | { kind: "frame"; message: Message }
  /** The client answers the message in flight (return code 0, 2 or 3), or another id. */
  | { kind: "answer"; returnCode: 0 | 2 | 3; otherId: boolean }
  | { kind: "sleep"; duration: number }
  /** The will step the session is at (WILLTOPIC, WILLMSG), or else a will update (WILLTOPICUPD, WILLMSGUPD). */
  | { kind: "will"; topic: boolean }
  | { kind: "wake"; clientId: string | undefined }
  | { kind: "connect"; cleanSession: boolean; will: boolean; elsewhere: boolean; duration: number }
  | { kind: "addressTaken" }
  | { kind: "wakeFrom"; mayMove: boolean }
  | { kind: "upConnack"; ok: boolean; refused: boolean }
  | { kind: "upPublished"; msgId: number; ok: boolean }
  | { kind: "upSubAck"; msgId: number; granted: number }
  | { kind: "upUnsubAck"; msgId: number }
  | { kind: "upMessage"; topic: string; qos: 0 | 1 | 2; size: number }
  /** The store finishes (or fails) one of the writes under way. */
  | { kind: "stored"; pick: number; ok: boolean }
  | { kind: "upClosed" }
  | { kind: "shutdown" }
  | { kind: "tick" };

const msgId = fc.integer({ min: 0, max: 8 });

/** How often each kind of event comes. */
export type Weights = Record<Act["kind"], number>;

/** Anything, often: a third of the events are arbitrary frames. */
export const ANYTHING: Weights = {
  frame: 24,
  answer: 8,
  sleep: 3,
  will: 2,
  wake: 4,
  connect: 2,
  addressTaken: 1,
  wakeFrom: 1,
  upConnack: 3,
  upPublished: 1,
  upSubAck: 1,
  upUnsubAck: 1,
  upMessage: 10,
  stored: 5,
  upClosed: 1,
  shutdown: 1,
  tick: 4,
};

/** A client that mostly follows the protocol, a broker that sends a lot, sleeps and reconnects, seldom an ending. */
export const MOSTLY_WELL_BEHAVED: Weights = {
  frame: 2,
  answer: 16,
  sleep: 6,
  will: 3,
  wake: 6,
  connect: 10,
  addressTaken: 1,
  wakeFrom: 2,
  upConnack: 10,
  upPublished: 1,
  upSubAck: 1,
  upUnsubAck: 1,
  upMessage: 24,
  stored: 12,
  upClosed: 1,
  shutdown: 1,
  tick: 8,
};

export function acts(frames: fc.Arbitrary<Message>, w: Weights): fc.Arbitrary<Act> {
  return fc.oneof(
    { weight: w.frame, arbitrary: frames.map((message): Act => ({ kind: "frame", message })) },
    {
      weight: w.answer,
      arbitrary: fc.record({
        kind: fc.constant("answer" as const),
        returnCode: fc.constantFrom(0 as const, 0 as const, 0 as const, 2 as const, 3 as const),
        otherId: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      }),
    },
    {
      weight: w.sleep,
      arbitrary: fc.record({ kind: fc.constant("sleep" as const), duration: fc.integer({ min: 0, max: 8 }) }),
    },
    { weight: w.will, arbitrary: fc.record({ kind: fc.constant("will" as const), topic: fc.boolean() }) },
    {
      weight: w.wake,
      arbitrary: fc.record({
        kind: fc.constant("wake" as const),
        clientId: fc.constantFrom(CLIENT, CLIENT, "g", undefined),
      }),
    },
    {
      weight: w.connect,
      arbitrary: fc.record({
        kind: fc.constant("connect" as const),
        cleanSession: fc.boolean(),
        will: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
        elsewhere: fc.boolean(),
        duration: fc.integer({ min: 0, max: 5 }),
      }),
    },
    { weight: w.addressTaken, arbitrary: fc.constant<Act>({ kind: "addressTaken" }) },
    { weight: w.wakeFrom, arbitrary: fc.record({ kind: fc.constant("wakeFrom" as const), mayMove: fc.boolean() }) },
    {
      weight: w.upConnack,
      arbitrary: fc.record({
        kind: fc.constant("upConnack" as const),
        ok: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
        refused: fc.boolean(),
      }),
    },
    {
      weight: w.upPublished,
      arbitrary: fc.record({ kind: fc.constant("upPublished" as const), msgId, ok: fc.boolean() }),
    },
    {
      weight: w.upSubAck,
      arbitrary: fc.record({
        kind: fc.constant("upSubAck" as const),
        msgId,
        granted: fc.constantFrom(0, 1, 2, 128),
      }),
    },
    { weight: w.upUnsubAck, arbitrary: fc.record({ kind: fc.constant("upUnsubAck" as const), msgId }) },
    {
      weight: w.upMessage,
      arbitrary: fc.record({
        kind: fc.constant("upMessage" as const),
        topic: fc.constantFrom("ab", "a/b", "c/d/e", "x", "p/q"),
        qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
        size: fc.integer({ min: 1, max: 8 }),
      }),
    },
    {
      weight: w.stored,
      arbitrary: fc.record({
        kind: fc.constant("stored" as const),
        pick: fc.nat(),
        ok: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
      }),
    },
    { weight: w.upClosed, arbitrary: fc.constant<Act>({ kind: "upClosed" }) },
    { weight: w.shutdown, arbitrary: fc.constant<Act>({ kind: "shutdown" }) },
    { weight: w.tick, arbitrary: fc.constant<Act>({ kind: "tick" }) },
  );
}

/** The client's answer to what it was sent (REGACK, PUBACK, PUBREC, PUBCOMP). */
function answer(s: Session, act: Extract<Act, { kind: "answer" }>): Message {
  const f = s.inFlight;
  if (f === undefined) return { type: MsgType.PubAck, topicId: 1, msgId: 1, returnCode: act.returnCode };
  const id = act.otherId ? f.msgId + 1 : f.msgId;
  switch (f.kind) {
    case "register":
      return { type: MsgType.RegAck, topicId: f.topicId, msgId: id, returnCode: act.returnCode === 3 ? 3 : 0 };
    case "pubrel":
      return { type: MsgType.PubComp, msgId: id };
    case "publish":
      return f.delivery.qos === 2 && act.returnCode === 0
        ? { type: MsgType.PubRec, msgId: id }
        : { type: MsgType.PubAck, topicId: f.topicId, msgId: id, returnCode: act.returnCode };
  }
}

function willMessage(s: Session, topic: boolean): Message {
  const payload = Buffer.from("gone") as unknown as Bytes;
  if (s.state === "awaitingWillTopic") return { type: MsgType.WillTopic, qos: 1, retain: false, willTopic: "w" };
  if (s.state === "awaitingWillMsg")
    return { type: MsgType.WillMsg, willMsg: payload, willMsgOffset: 0, willMsgLength: 4 };
  return topic
    ? { type: MsgType.WillTopicUpd, qos: 1, retain: false, willTopic: "w2" }
    : { type: MsgType.WillMsgUpd, willMsg: payload, willMsgOffset: 0, willMsgLength: 4 };
}

/** The record the client acknowledges with this event: PUBACK 0x00 or PUBREC to the PUBLISH in flight. */
export function acknowledged(s: Session, event: SessionEvent): Delivery | undefined {
  const f = s.inFlight;
  if (event.kind !== "frame" || f === undefined || f.kind !== "publish") return undefined;
  const m = event.message;
  if (m.type === MsgType.PubAck && m.msgId === f.msgId && m.returnCode === 0) return f.delivery;
  if (m.type === MsgType.PubRec && m.msgId === f.msgId) return f.delivery;
  return undefined;
}

const otherKey = (s: Session): string => (s.key === "a" ? "b" : "a");

export function connectEvent(s: Session, act: Extract<Act, { kind: "connect" }>): SessionEvent {
  return {
    kind: "connect",
    message: {
      type: MsgType.Connect,
      will: act.will,
      cleanSession: act.cleanSession,
      duration: act.duration,
      clientId: CLIENT,
    },
    route: { key: act.elsewhere ? otherKey(s) : s.key },
  };
}

/** Any event at any time: upstream answers whether or not a connection exists, any frame (a CONNECT too). */
export function arbitraryEvent(s: Session, act: Act, storing: Delivery[]): SessionEvent | undefined {
  switch (act.kind) {
    case "upMessage":
      return {
        kind: "upMessage",
        delivery: {
          topicName: act.topic,
          payload: new Uint8Array(act.size),
          qos: act.qos,
          retain: false,
          custody: act.qos === 0 ? "none" : "broker",
          release: act.qos === 0 ? undefined : () => {},
          reregistered: false,
        },
      };
    case "stored": {
      const d = storing.splice(act.pick % Math.max(1, storing.length), 1)[0];
      return d === undefined ? undefined : { kind: "stored", delivery: d, release: act.ok ? () => {} : undefined };
    }
    default:
      return clientEvent(s, act);
  }
}

/**
 * Events as the gateway's shell produces them: upstream answers only from a connection that exists
 * (CONNACK while connecting, messages while open), the store's answers only to its writes, frames
 * never a CONNECT (that is the connect event).
 */
export function modelledEvent(s: Session, act: Act, model: CustodyModel): SessionEvent | undefined {
  switch (act.kind) {
    case "frame":
      return act.message.type === MsgType.Connect ? undefined : { kind: "frame", message: act.message };
    case "upConnack":
      if (model.connection !== "connecting") return undefined;
      model.connection = act.ok ? "open" : "none";
      if (!act.ok) model.connectionId++;
      return act;
    case "upMessage":
      if (model.connection !== "open") return undefined;
      return { kind: "upMessage", delivery: model.message(act.topic, act.qos, act.size) };
    case "upClosed":
      if (model.connection === "none") return undefined;
      model.connection = "none";
      model.connectionId++;
      return act;
    case "stored": {
      const d = model.storing.splice(act.pick % Math.max(1, model.storing.length), 1)[0];
      if (d === undefined) return undefined;
      // The shell tells the session of a failed write too (release undefined): the message stays with the broker.
      return { kind: "stored", delivery: d, release: act.ok ? model.stored(d) : undefined };
    }
    default:
      return clientEvent(s, act);
  }
}

function clientEvent(s: Session, act: Act): SessionEvent | undefined {
  switch (act.kind) {
    case "frame":
      return { kind: "frame", message: act.message };
    case "answer":
      return { kind: "frame", message: answer(s, act) };
    case "sleep":
      return { kind: "frame", message: { type: MsgType.Disconnect, duration: act.duration } };
    case "will":
      return { kind: "frame", message: willMessage(s, act.topic) };
    case "wake":
      return { kind: "frame", message: { type: MsgType.PingReq, clientId: act.clientId } };
    case "connect":
      return connectEvent(s, act);
    case "addressTaken":
      return { kind: "addressTaken", by: "g" };
    case "wakeFrom":
      return {
        kind: "wakeFrom",
        message: { type: MsgType.PingReq, clientId: CLIENT },
        route: { key: otherKey(s) },
        mayMove: act.mayMove,
      };
    case "upConnack":
    case "upPublished":
    case "upSubAck":
    case "upUnsubAck":
    case "upClosed":
    case "shutdown":
    case "tick":
      return act;
    case "upMessage":
    case "stored":
      return undefined;
  }
}
