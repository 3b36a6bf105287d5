import { MsgType, type Bytes, type Connect, type Message, type Publish } from "../../../protocol";
import { step } from "../../../gateway/session/machine";
import { newSession } from "../../../gateway/session/session";
import { TopicTable } from "../../../gateway/session/topics";
import {
  newCounters,
  type Delivery,
  type Effect,
  type Session,
  type SessionContext,
  type SessionEvent,
} from "../../../gateway/session/types";
import type { SleepBufferLimits } from "../../../gateway/sleep/buffer";

/**
 * One session machine on a fake clock: events in, effects out, nothing else. Like the gateway's shell
 * it calls every `release` effect at once, so a test sees acknowledgements and deleted copies through
 * the functions it gave the messages.
 */

/** The route key a harness session starts at. */
export const HOME = "udp 127.0.0.1:1";
export const GRACE_MS = 500;

export interface HarnessOptions {
  ctx?: Partial<SessionContext>;
  /** Queue limits of the client (sleep.maxMessages / maxBytes). */
  limits?: SleepBufferLimits | undefined;
  predefined?: Record<string, number>;
}

export interface Harness {
  s: Session;
  ctx: SessionContext;
  logs: Array<{ event: string; fields: Record<string, unknown> | undefined }>;
  /** Every state change so far, as "from→to". */
  transitions(): string[];
  run(event: SessionEvent, now: number): Effect[];
  frame(message: Message, now: number): Effect[];
  /** A `connect` event (CONNECT of client id "c1" unless given) from `key` (HOME unless given). */
  connect(now: number, flags?: Partial<Omit<Connect, "type">>, key?: string): Effect[];
}

export function harness(options: HarnessOptions = {}): Harness {
  const logs: Harness["logs"] = [];
  const record = (event: string, fields?: Record<string, unknown>): void => {
    logs.push({ event, fields });
  };
  const limits = options.limits ?? { maxMessages: 10, maxBytes: 10_000 };
  const ctx: SessionContext = {
    maxTopicsPerClient: 10,
    maxInflight: 4,
    maxMessageSize: 1000,
    tRetryMs: 1000,
    nRetry: 2,
    keepAliveGraceMs: 0,
    willHandshakeTimeoutMs: 5000,
    upstreamConnectTimeoutMs: 5000,
    durable: false,
    sleepGraceMs: GRACE_MS,
    queueLimitsFor: () => limits,
    counters: newCounters(),
    log: { debug: record, info: record, warn: record, error: record },
    ...options.ctx,
  };
  const predefined = options.predefined ?? {};
  const idByName = new Map(Object.entries(predefined));
  const nameById = new Map(Object.entries(predefined).map(([n, id]) => [id, n] as [number, string]));
  const s = newSession(HOME, new TopicTable(ctx.maxTopicsPerClient, idByName, nameById), 0, limits);
  const run = (event: SessionEvent, now: number): Effect[] => {
    const out: Effect[] = [];
    step(s, event, now, ctx, out);
    for (const e of out) if (e.kind === "release") e.release();
    return out;
  };
  return {
    s,
    ctx,
    logs,
    transitions: () =>
      logs.filter((l) => l.event === "session-state").map((l) => `${String(l.fields?.from)}→${String(l.fields?.to)}`),
    run,
    frame: (message, now) => run({ kind: "frame", message }, now),
    connect: (now, flags = {}, key = HOME) =>
      run(
        {
          kind: "connect",
          message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 0, clientId: "c1", ...flags },
          route: { key },
        },
        now,
      ),
  };
}

/** A harness whose session is connected (CONNECT, then the broker's CONNACK) at time 0. */
export function connected(flags: Partial<Omit<Connect, "type">> = {}, options: HarnessOptions = {}): Harness {
  const h = harness(options);
  h.connect(0, flags);
  h.run({ kind: "upConnack", ok: true, refused: false }, 0);
  return h;
}

/**
 * A message from the broker as the upstream connection hands it over: QoS 1/2 unacknowledged ("broker"
 * custody), its acknowledgement recorded in `acks` by payload; QoS 0 with nothing to acknowledge.
 */
export function fromBroker(topicName: string, payload: string, qos: 0 | 1 | 2, acks: string[] = []): Delivery {
  return {
    topicName,
    payload: Buffer.from(payload),
    qos,
    retain: false,
    custody: qos === 0 ? "none" : "broker",
    release: qos === 0 ? undefined : () => acks.push(payload),
    reregistered: false,
  };
}

/** The store's answer to a `store` effect; deleting the copy is recorded in `deletes` by payload. */
export function storedEvent(d: Delivery, deletes: string[]): SessionEvent {
  const payload = Buffer.from(d.payload).toString();
  return { kind: "stored", delivery: d, release: () => deletes.push(payload) };
}

/** Answers every `store` effect in `effects` as the store does once the write is synced. */
export function answerStores(h: Harness, effects: Effect[], now: number, deletes: string[]): Effect[] {
  const more: Effect[] = [];
  for (const e of effects) if (e.kind === "store") more.push(...h.run(storedEvent(e.delivery, deletes), now));
  return more;
}

const names: Partial<Record<MsgType, string>> = {
  [MsgType.ConnAck]: "ConnAck",
  [MsgType.WillTopicReq]: "WillTopicReq",
  [MsgType.WillMsgReq]: "WillMsgReq",
  [MsgType.Register]: "Register",
  [MsgType.RegAck]: "RegAck",
  [MsgType.Publish]: "Publish",
  [MsgType.PubAck]: "PubAck",
  [MsgType.PubRec]: "PubRec",
  [MsgType.PubRel]: "PubRel",
  [MsgType.PubComp]: "PubComp",
  [MsgType.SubAck]: "SubAck",
  [MsgType.UnsubAck]: "UnsubAck",
  [MsgType.PingResp]: "PingResp",
  [MsgType.Disconnect]: "Disconnect",
  [MsgType.WillTopicResp]: "WillTopicResp",
  [MsgType.WillMsgResp]: "WillMsgResp",
};

export const sent = (effects: Effect[]): Message[] => effects.flatMap((e) => (e.kind === "send" ? [e.message] : []));

/** Effects by kind, sends by message name: ["send:Disconnect", "upClose", "end"]. */
export const kinds = (effects: Effect[]): string[] =>
  effects.map((e) => (e.kind === "send" ? `send:${names[e.message.type] ?? e.message.type}` : e.kind));

/** The payload of a PUBLISH sent to the client, as text. */
export function text(m: Message): string {
  const p = m as Publish;
  return Buffer.from((p.data as unknown as Uint8Array).subarray(p.dataOffset, p.dataOffset + p.dataLength)).toString();
}

/** A client PUBLISH to a registered topic id, payload "x". */
export function clientPublish(topicId: number, qos: -1 | 0 | 1 | 2, msgId: number, dup = false): Message {
  const data = Buffer.from("x");
  return {
    type: MsgType.Publish,
    dup,
    qos,
    retain: false,
    topicIdType: 0,
    topicId,
    msgId,
    data: data as unknown as Bytes,
    dataOffset: 0,
    dataLength: 1,
  };
}

/** The client's positive answer to a message it was sent: REGACK, PUBACK (QoS 1), PUBREC (QoS 2), PUBCOMP. */
export function accept(m: Message): Message {
  switch (m.type) {
    case MsgType.Register:
      return { type: MsgType.RegAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 };
    case MsgType.Publish:
      return m.qos === 2
        ? { type: MsgType.PubRec, msgId: m.msgId }
        : { type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 };
    case MsgType.PubRel:
      return { type: MsgType.PubComp, msgId: m.msgId };
    default:
      throw new Error(`no answer to message type ${m.type}`);
  }
}

/**
 * Plays a well-behaved client: answers every REGISTER, PUBLISH QoS 1/2 and PUBREL it is sent until the
 * gateway has nothing more to send. Returns the payloads of the PUBLISHes it received, in order.
 */
export function drainToClient(h: Harness, first: Message[], now: number): string[] {
  const texts: string[] = [];
  let next = first;
  for (let i = 0; i < 100 && next.length > 0; i++) {
    const out: Effect[] = [];
    for (const m of next) {
      if (m.type === MsgType.Publish) texts.push(text(m));
      if (m.type === MsgType.Register || (m.type === MsgType.Publish && m.qos > 0) || m.type === MsgType.PubRel)
        out.push(...h.frame(accept(m), now));
    }
    next = sent(out);
  }
  if (next.length > 0) throw new Error("the gateway kept sending after 100 rounds of answers");
  return texts;
}
