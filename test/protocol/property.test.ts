import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decode,
  DecodeErrorCode,
  encode,
  encodingLength,
  MsgType,
  TopicIdType,
  utf8Length,
  type DecodeResult,
  type Message,
  type QoS,
  type ReturnCode,
} from "../../protocol";
import { fromHex, normalise } from "./fixture-helpers";
import { fixtures } from "./fixtures";

/** Fixed so a failure reproduces; FC_SEED overrides it to explore further. */
const SEED = process.env.FC_SEED === undefined ? 0x2a5eed : Number(process.env.FC_SEED);
/** Decode accepts any client id the generators make; the limit itself is tested in codec.test.ts. */
const DECODE_OPTIONS = { maxClientIdLength: 65535 };

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 65535 });
const qos = fc.constantFrom<QoS>(-1, 0, 1, 2);
const qos012 = fc.constantFrom<QoS>(0, 1, 2);
const returnCode = u8.map((n) => n as ReturnCode);
const topicIdType = fc.constantFrom(TopicIdType.Normal, TopicIdType.Predefined, TopicIdType.Short);

/** Non-empty text: ASCII, any code point (2-, 3-, 4-octet UTF-8), or printable graphemes. */
function text(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength }),
    fc.string({ unit: "binary", minLength: 1, maxLength }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength }),
  );
}

/** A topic name, sometimes long enough to need the 3-octet Length. */
const topicName = fc.oneof({ weight: 4, arbitrary: text(40) }, { weight: 1, arbitrary: text(300) });

/** Octets, sometimes enough of them (over 249) to need the 3-octet Length. */
const octets = fc.oneof(
  { weight: 4, arbitrary: fc.array(u8, { maxLength: 40 }) },
  { weight: 1, arbitrary: fc.array(u8, { minLength: 240, maxLength: 1200 }) },
);

/** A slice of a larger array, as decode hands them out: (bytes, offset, length). */
const slice = fc
  .tuple(fc.array(u8, { maxLength: 8 }), octets, fc.array(u8, { maxLength: 8 }))
  .map((parts) => ({ bytes: parts[0].concat(parts[1], parts[2]), offset: parts[0].length, length: parts[1].length }));

const byType: Record<string, fc.Arbitrary<Message>> = {
  ADVERTISE: fc.record({ type: fc.constant(MsgType.Advertise), gwId: u8, duration: u16 }),
  SEARCHGW: fc.record({ type: fc.constant(MsgType.SearchGw), radius: u8 }),
  GWINFO: fc.record({ type: fc.constant(MsgType.GwInfo), gwId: u8, gwAdd: octets }),
  CONNECT: fc.record({
    type: fc.constant(MsgType.Connect),
    will: fc.boolean(),
    cleanSession: fc.boolean(),
    duration: u16,
    clientId: text(64),
  }),
  CONNACK: fc.record({ type: fc.constant(MsgType.ConnAck), returnCode }),
  WILLTOPICREQ: fc.constant({ type: MsgType.WillTopicReq }),
  WILLMSGREQ: fc.constant({ type: MsgType.WillMsgReq }),
  "WILLTOPIC / WILLTOPICUPD": fc.oneof(
    fc.record({
      type: fc.constantFrom(MsgType.WillTopic, MsgType.WillTopicUpd),
      qos: qos012,
      retain: fc.boolean(),
      willTopic: topicName,
    }),
    // The empty form carries no flags: it decodes as qos 0, no retain (§5.4.7).
    fc.record({
      type: fc.constantFrom(MsgType.WillTopic, MsgType.WillTopicUpd),
      qos: fc.constant<QoS>(0),
      retain: fc.constant(false),
      willTopic: fc.constant(""),
    }),
  ),
  "WILLMSG / WILLMSGUPD": fc
    .record({ type: fc.constantFrom(MsgType.WillMsg, MsgType.WillMsgUpd), s: slice })
    .map((r): Message => ({ type: r.type, willMsg: r.s.bytes, willMsgOffset: r.s.offset, willMsgLength: r.s.length })),
  REGISTER: fc.record({ type: fc.constant(MsgType.Register), topicId: u16, msgId: u16, topicName }),
  "REGACK / PUBACK": fc.record({
    type: fc.constantFrom(MsgType.RegAck, MsgType.PubAck),
    topicId: u16,
    msgId: u16,
    returnCode,
  }),
  PUBLISH: fc
    .record({ dup: fc.boolean(), qos, retain: fc.boolean(), topicIdType, topicId: u16, msgId: u16, s: slice })
    .map((r): Message => ({
      type: MsgType.Publish,
      dup: r.dup,
      qos: r.qos,
      retain: r.retain,
      topicIdType: r.topicIdType,
      topicId: r.topicId,
      msgId: r.msgId,
      data: r.s.bytes,
      dataOffset: r.s.offset,
      dataLength: r.s.length,
    })),
  "PUBREC / PUBREL / PUBCOMP / UNSUBACK": fc.record({
    type: fc.constantFrom(MsgType.PubRec, MsgType.PubRel, MsgType.PubComp, MsgType.UnsubAck),
    msgId: u16,
  }),
  SUBSCRIBE: fc.oneof(
    fc.record({
      type: fc.constant(MsgType.Subscribe),
      dup: fc.boolean(),
      qos,
      topicIdType: fc.constant(TopicIdType.Normal),
      msgId: u16,
      topicName,
      topicId: fc.constant(0),
    }),
    fc.record({
      type: fc.constant(MsgType.Subscribe),
      dup: fc.boolean(),
      qos,
      topicIdType: fc.constantFrom(TopicIdType.Predefined, TopicIdType.Short),
      msgId: u16,
      topicName: fc.constant(""),
      topicId: u16,
    }),
  ),
  SUBACK: fc.record({ type: fc.constant(MsgType.SubAck), qos, topicId: u16, msgId: u16, returnCode }),
  UNSUBSCRIBE: fc.oneof(
    fc.record({
      type: fc.constant(MsgType.Unsubscribe),
      topicIdType: fc.constant(TopicIdType.Normal),
      msgId: u16,
      topicName,
      topicId: fc.constant(0),
    }),
    fc.record({
      type: fc.constant(MsgType.Unsubscribe),
      topicIdType: fc.constantFrom(TopicIdType.Predefined, TopicIdType.Short),
      msgId: u16,
      topicName: fc.constant(""),
      topicId: u16,
    }),
  ),
  PINGREQ: fc.record({ type: fc.constant(MsgType.PingReq), clientId: fc.option(text(64), { nil: undefined }) }),
  PINGRESP: fc.constant({ type: MsgType.PingResp }),
  DISCONNECT: fc.record({ type: fc.constant(MsgType.Disconnect), duration: fc.option(u16, { nil: undefined }) }),
  "WILLTOPICRESP / WILLMSGRESP": fc.record({
    type: fc.constantFrom(MsgType.WillTopicResp, MsgType.WillMsgResp),
    returnCode,
  }),
};

const anyInner = fc.oneof(...Object.values(byType));

byType.Encapsulated = fc.record({
  type: fc.constant(MsgType.Encapsulated),
  radius: fc.integer({ min: 0, max: 3 }),
  wirelessNodeId: fc.oneof(
    { weight: 5, arbitrary: fc.array(u8, { maxLength: 16 }) },
    { weight: 1, arbitrary: fc.array(u8, { minLength: 250, maxLength: 300 }) },
  ),
  message: anyInner,
});

/** Encodes at a non-zero offset, checks the count against encodingLength, and decodes it back. */
function roundTrip(message: Message, at: number): void {
  const out: number[] = new Array<number>(at).fill(0xaa);
  const expected = encodingLength(message);
  const written = encode(message, out, at);
  expect(written).toBe(expected);
  expect(out.length).toBe(at + written);
  const decoded = decode(out, at, written, DECODE_OPTIONS);
  expect(decoded.type).not.toBe("error");
  expect(normalise(decoded as Message)).toEqual(normalise(message));
}

describe("decode(encode(m)) is m, for every message type", () => {
  it.each(Object.keys(byType))(
    "%s",
    (name) => {
      const arbitrary = byType[name] as fc.Arbitrary<Message>;
      fc.assert(
        fc.property(arbitrary, fc.integer({ min: 0, max: 9 }), (message, at) => {
          roundTrip(message, at);
        }),
        { seed: SEED, numRuns: 300 },
      );
    },
    60_000,
  );

  it("generates the 3-octet Length and non-ASCII strings (the generators reach them)", () => {
    const samples = fc.sample(fc.oneof(...Object.values(byType)), { seed: SEED, numRuns: 3000 });
    expect(samples.some((m) => encodingLength(m) > 255)).toBe(true);
    const strings = samples.flatMap((m) => {
      const r = m as unknown as Record<string, unknown>;
      return [r.clientId, r.topicName, r.willTopic].filter((s): s is string => typeof s === "string");
    });
    expect(strings.some((s) => utf8Length(s) > s.length)).toBe(true);
    expect(strings.some((s) => /[\ud800-\udbff]/.test(s))).toBe(true);
    expect(new Set(samples.map((m) => m.type)).size).toBe(28);
  });
});

/** A small seeded generator (mulberry32): the same 100,000 frames on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
  0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0xfd, 0xfe, 0xff,
];
const CODES = new Set<string>([
  DecodeErrorCode.BadLength,
  DecodeErrorCode.Truncated,
  DecodeErrorCode.TrailingBytes,
  DecodeErrorCode.BadBodyLength,
  DecodeErrorCode.ReservedType,
  DecodeErrorCode.ReservedTopicIdType,
  DecodeErrorCode.BadProtocolId,
  DecodeErrorCode.ClientIdLength,
  DecodeErrorCode.EmptyString,
  DecodeErrorCode.BadUtf8,
  DecodeErrorCode.BadQos,
  DecodeErrorCode.NestedEncapsulation,
]);

/**
 * One hostile frame of 0..300 octets. Most look almost right, so decode gets past the Length and
 * type checks: a Length that matches (1- or 3-octet form) or is off by one, a real or reserved type,
 * a CONNECT protocol id, an Encapsulated header before a plausible inner frame, or a fixture with
 * one octet changed, cut short or extended.
 */
function hostileFrame(next: () => number): number[] {
  const pick = (n: number): number => Math.floor(next() * n);
  const mode = pick(10);
  if (mode < 2) {
    const source = fromHex((fixtures[pick(fixtures.length)] as { hex: string }).hex);
    const frame = source.slice(0, Math.min(source.length, 300));
    const change = pick(3);
    if (change === 0 && frame.length > 0) frame[pick(frame.length)] = pick(256);
    if (change === 1) frame.length = pick(frame.length + 1);
    if (change === 2 && frame.length < 300) frame.push(pick(256));
    return frame;
  }
  const length = pick(301);
  const frame: number[] = [];
  for (let i = 0; i < length; i++) frame.push(pick(256));
  if (length === 0 || mode === 2) return frame;
  const slack = pick(4) === 0 ? pick(3) - 1 : 0;
  let typeAt = 1;
  if (length >= 4 && (length > 255 || pick(4) === 0)) {
    frame[0] = 0x01;
    frame[1] = Math.floor((length + slack) / 256) % 256;
    frame[2] = (length + slack) % 256;
    typeAt = 3;
  } else {
    frame[0] = Math.max(0, Math.min(255, length + slack));
  }
  if (typeAt < length && pick(8) !== 0) frame[typeAt] = TYPES[pick(TYPES.length)] as number;
  if (frame[typeAt] === 0x04 && typeAt + 2 < length && pick(2) === 0) frame[typeAt + 2] = 0x01;
  if (frame[typeAt] === 0xfe && typeAt + 3 < length) {
    // An Encapsulated header of 3..6 octets, then a plausible inner Length and type.
    const header = Math.min(3 + pick(4), length - 1);
    frame[0] = header;
    const inner = header;
    if (inner < length) frame[inner] = length - inner;
    if (inner + 1 < length) frame[inner + 1] = TYPES[pick(TYPES.length)] as number;
  }
  return frame;
}

describe("decode of hostile bytes", () => {
  it("never throws, never reads outside its range, and returns a message or a known error (100,000 frames)", () => {
    const next = random(SEED);
    let outside: string[] = [];
    let reading = false;
    let messages = 0;
    let reads = 0;
    const codesSeen = new Set<string>();

    for (let n = 0; n < 100_000; n++) {
      const frame = hostileFrame(next);
      const before = 1 + Math.floor(next() * 16);
      const backing = Buffer.alloc(before + frame.length + 16);
      for (let i = 0; i < backing.length; i++) backing[i] = Math.floor(next() * 256);
      Buffer.from(frame).copy(backing, before);
      const start = before;
      const end = before + frame.length;
      const watched = new Proxy(backing, {
        get(target, property) {
          if (reading && typeof property === "string" && /^-?\d+$/.test(property)) {
            const index = Number(property);
            reads++;
            if (index < start || index >= end) outside.push(`frame ${n}: read [${index}] outside [${start}, ${end})`);
          }
          // The target as receiver: typed-array getters such as length refuse the proxy.
          return Reflect.get(target, property, target) as unknown;
        },
        set(target, property, value) {
          if (reading) outside.push(`frame ${n}: wrote [${String(property)}]`);
          return Reflect.set(target, property, value);
        },
      }) as unknown as number[];

      let result: DecodeResult;
      reading = true;
      try {
        result = decode(watched, start, frame.length);
      } catch (error) {
        throw new Error(`decode threw on frame ${n} (${Buffer.from(frame).toString("hex")}): ${String(error)}`);
      } finally {
        reading = false;
      }
      if (outside.length > 0) {
        throw new Error(`${outside.slice(0, 5).join("; ")} for ${Buffer.from(frame).toString("hex")}`);
      }
      if (result.type === "error") {
        expect(CODES.has(result.code)).toBe(true);
        expect(result.offset).toBeGreaterThanOrEqual(start);
        expect(result.offset).toBeLessThanOrEqual(end);
        codesSeen.add(result.code);
      } else {
        messages++;
        expect(TYPES.includes(result.type)).toBe(true);
        checkReencodes(result, n, frame);
      }
      outside = [];
    }
    // The watch sees decode's reads, and the bias works: frames reach deep into decode and
    // exercise every outcome.
    expect(reads).toBeGreaterThan(100_000);
    expect(messages).toBeGreaterThan(1000);
    expect([...CODES].filter((c) => !codesSeen.has(c))).toEqual([]);
  }, 120_000);
});

/** A message decode accepted encodes, and decodes again to the same message. */
function checkReencodes(message: Message, n: number, frame: number[]): void {
  const out: number[] = [];
  let written: number;
  try {
    written = encode(message, out, 0);
  } catch (error) {
    throw new Error(`frame ${n} (${Buffer.from(frame).toString("hex")}) decoded but does not encode: ${String(error)}`);
  }
  expect(normalise(decode(out, 0, written) as Message)).toEqual(normalise(message));
}
