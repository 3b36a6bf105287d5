import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodingLength, MsgType, utf8Length, type Message } from "../../protocol/index";
import type { MqttSnClient } from "../../device-client/core/client";
import { Harness, bytes } from "./support/harness";

/**
 * The client's size checks measure names in UTF-8 octets and the whole message (§5.2.1: a 1- or
 * 3-octet Length), at the exact boundary: a name whose message is as long as the buffers is sent
 * whole, one octet more is refused with -1 and nothing is sent. JavaScript's string length (UTF-16
 * code units) undercounts every non-ASCII character, which is what these names are made of.
 */
const SEED = process.env.FC_SEED === undefined ? 0x0c7e75 : Number(process.env.FC_SEED);

/** Characters of every UTF-8 width: 1, 2, 3 and 4 octets (the last two are surrogate pairs here). */
const character = fc.constantFrom("a", "/", "é", "ß", "€", "語", "😀", "𝄞");
const head = fc.array(character, { maxLength: 30 }).map((chars) => chars.join(""));
/** Buffer sizes around the Length field's switch from 1 to 3 octets (255 / 258), and small ones. */
const size = fc.oneof(fc.integer({ min: 16, max: 300 }), fc.constantFrom(254, 255, 256, 257, 258, 259));

interface Operation {
  name: string;
  /** The message the operation sends for this name, as the codec measures it. */
  message(name: string): Message;
  call(client: MqttSnClient, name: string): number;
  /** Where the name is in what the client sent. */
  sentName(m: Message): string | undefined;
}

const operations: Operation[] = [
  {
    name: "register",
    message: (topicName) => ({ type: MsgType.Register, topicId: 0, msgId: 1, topicName }),
    call: (c, name) => c.register(name),
    sentName: (m) => (m.type === MsgType.Register ? m.topicName : undefined),
  },
  {
    name: "publish (its REGISTER)",
    message: (topicName) => ({ type: MsgType.Register, topicId: 0, msgId: 1, topicName }),
    call: (c, name) => c.publish(name, bytes("x"), 0, 1, 1, false),
    sentName: (m) => (m.type === MsgType.Register ? m.topicName : undefined),
  },
  {
    name: "subscribe",
    message: (topicName) => ({
      type: MsgType.Subscribe,
      dup: false,
      qos: 1,
      topicIdType: 0,
      msgId: 1,
      topicName,
      topicId: 0,
    }),
    call: (c, name) => c.subscribe(name, 1),
    sentName: (m) => (m.type === MsgType.Subscribe ? m.topicName : undefined),
  },
  {
    name: "unsubscribe",
    message: (topicName) => ({ type: MsgType.Unsubscribe, topicIdType: 0, msgId: 1, topicName, topicId: 0 }),
    call: (c, name) => c.unsubscribe(name),
    sentName: (m) => (m.type === MsgType.Unsubscribe ? m.topicName : undefined),
  },
  {
    name: "updateWillTopic",
    message: (willTopic) => ({ type: MsgType.WillTopicUpd, qos: 1, retain: false, willTopic }),
    call: (c, name) => c.updateWillTopic(name, 1, false),
    sentName: (m) => (m.type === MsgType.WillTopicUpd ? m.willTopic : undefined),
  },
];

/**
 * head, then as many "a" as fit: the longest such name whose message is at most `limit` octets, or
 * undefined when head (or "a") alone is too long.
 */
function longest(start: string, message: (name: string) => Message, limit: number): string | undefined {
  let name = start === "" ? "a" : start;
  if (encodingLength(message(name)) > limit) return undefined;
  while (encodingLength(message(name + "a")) <= limit) name += "a";
  return name;
}

/** The same name one octet longer, ending in a 2-octet character instead of its last "a". */
function oneOctetOverWide(name: string): string | undefined {
  return name.endsWith("a") ? name.slice(0, -1) + "é" : undefined;
}

function active(limit: number): Harness {
  const h = new Harness(undefined, 4, limit);
  h.connect();
  return h;
}

describe("device client size checks count UTF-8 octets, to the octet", () => {
  for (const op of operations) {
    it(`${op.name}: a name whose message fills the buffers exactly is sent whole; one octet more is refused`, () => {
      fc.assert(
        fc.property(head, size, (start, limit) => {
          const name = longest(start, op.message, limit);
          fc.pre(name !== undefined);
          const fits = name as string;

          const h = active(limit);
          expect(op.call(h.client, fits)).toBeGreaterThanOrEqual(0);
          const sent = h.sent.splice(0);
          expect(sent).toHaveLength(1);
          const first = sent[0] as (typeof sent)[number];
          expect(first.octets).toHaveLength(encodingLength(op.message(fits)));
          expect(first.octets.length).toBeLessThanOrEqual(limit);
          expect(op.sentName(first.message)).toBe(fits);

          for (const over of [fits + "a", oneOctetOverWide(fits)]) {
            if (over === undefined) continue;
            expect(utf8Length(over)).toBe(utf8Length(fits) + 1);
            const g = active(limit);
            expect(op.call(g.client, over)).toBe(-1);
            expect(g.sent).toEqual([]);
          }
        }),
        { seed: SEED, numRuns: 300 },
      );
    });
  }

  it("any name: refused exactly when its message would be longer than the buffers", () => {
    fc.assert(
      fc.property(fc.constantFrom(...operations), head, size, (op, start, limit) => {
        const name = start === "" ? "é" : start;
        const h = active(limit);
        const result = op.call(h.client, name);
        const needed = encodingLength(op.message(name));
        if (needed > limit) {
          expect(result).toBe(-1);
          expect(h.sent).toEqual([]);
        } else {
          expect(result).toBeGreaterThanOrEqual(0);
          expect(h.sent.map((s) => s.octets.length)).toEqual([needed]);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it("the client id and the will topic: filling the buffers exactly constructs, one octet more throws", () => {
    const connect = (clientId: string): Message => ({
      type: MsgType.Connect,
      will: false,
      cleanSession: true,
      duration: 60,
      clientId,
    });
    const willTopic = (topic: string): Message => ({
      type: MsgType.WillTopic,
      qos: 0,
      retain: false,
      willTopic: topic,
    });
    fc.assert(
      fc.property(head, size, (start, limit) => {
        const id = longest(start, connect, limit);
        if (id !== undefined) {
          const h = new Harness((o) => (o.clientId = id), 4, limit);
          h.client.start(0);
          expect(h.sent.map((s) => s.octets.length)).toEqual([encodingLength(connect(id))]);
          expect(h.sent[0]?.message).toMatchObject({ type: MsgType.Connect, clientId: id });
          expect(() => new Harness((o) => (o.clientId = id + "a"), 4, limit)).toThrow(/do not fit/);
        }
        const topic = longest(start, willTopic, limit);
        if (topic !== undefined) {
          const h = new Harness((o) => (o.willTopic = topic), 4, limit);
          h.client.start(0);
          h.take();
          h.fromGateway({ type: MsgType.WillTopicReq });
          expect(h.sent.map((s) => s.octets.length)).toEqual([encodingLength(willTopic(topic))]);
          expect(h.sent[0]?.message).toMatchObject({ type: MsgType.WillTopic, willTopic: topic });
          expect(() => new Harness((o) => (o.willTopic = topic + "a"), 4, limit)).toThrow(/do not fit/);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('refuses "bars/" + 130 × "é" with 256-octet buffers although its string length is 135', () => {
    const topic = "bars/" + "é".repeat(130);
    expect(topic.length + 10).toBeLessThanOrEqual(256);
    expect(utf8Length(topic)).toBe(265);
    const h = active(256);
    expect(h.client.publish(topic, bytes("x"), 0, 1, 1, false)).toBe(-1);
    expect(h.client.register(topic)).toBe(-1);
    expect(h.client.subscribe(topic, 0)).toBe(-1);
    expect(h.sent).toEqual([]);
    expect(h.client.topicId(topic)).toBe(-1);
  });

  it("a name with a lone UTF-16 surrogate has no UTF-8 form: it throws, as encode() does, and nothing is sent", () => {
    const h = active(256);
    expect(() => h.client.publish("t/\ud800", bytes("x"), 0, 1, 1, false)).toThrow(/lone UTF-16 surrogate/);
    expect(() => h.client.register("t/\udc00x")).toThrow(/lone UTF-16 surrogate/);
    expect(() => h.client.subscribe("\ud83d", 0)).toThrow(/lone UTF-16 surrogate/);
    expect(h.sent).toEqual([]);
    expect(() => new Harness((o) => (o.clientId = "dev\udfff"))).toThrow(/lone UTF-16 surrogate/);
  });
});
