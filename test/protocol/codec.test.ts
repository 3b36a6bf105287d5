import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decode, encode, encodingLength, MsgType, TopicIdType, type Message } from "../../protocol";
import { fromHex, normalise, toHex } from "./fixture-helpers";
import { fixtures, malformed } from "./fixtures";

const SENTINEL = 0xaa;

/** The frame at a non-zero offset inside a larger Buffer whose other octets are SENTINEL. */
function placed(hex: string, before: number, after: number): Buffer {
  const frame = Buffer.from(hex, "hex");
  const buf = Buffer.alloc(before + frame.length + after, SENTINEL);
  frame.copy(buf, before);
  return buf;
}

/** The codes declared in protocol/errors.ts, read from its source so a new code cannot be missed. */
function declaredErrorCodes(): string[] {
  const source = readFileSync(new URL("../../protocol/errors.ts", import.meta.url), "utf8");
  const body = source.slice(source.indexOf("enum DecodeErrorCode"));
  const codes = [...body.slice(0, body.indexOf("}")).matchAll(/=\s*"([^"]+)"/g)].map((m) => m[1] as string);
  if (codes.length === 0) throw new Error("found no DecodeErrorCode values in protocol/errors.ts");
  return codes;
}

describe("fixtures", () => {
  it("cover every message type of the specification", () => {
    const types = new Set(fixtures.map((f) => f.message.type));
    const expected = [
      0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x12, 0x13, 0x14,
      0x15, 0x16, 0x17, 0x18, 0x1a, 0x1b, 0x1c, 0x1d, 0xfe,
    ];
    expect([...types].sort((a, b) => a - b)).toEqual(expected);
  });

  it("have unique names", () => {
    expect(new Set(fixtures.map((f) => f.name)).size).toBe(fixtures.length);
  });
});

describe.each(fixtures)("$name", (fixture) => {
  const octets = fixture.hex.length / 2;

  it("decodes from a Buffer to the message", () => {
    const buf = Buffer.from(fixture.hex, "hex");
    const decoded = decode(buf as unknown as number[], 0, buf.length);
    expect(decoded.type).not.toBe("error");
    expect(normalise(decoded as Message)).toEqual(normalise(fixture.message));
  });

  it("decodes at a non-zero offset inside a larger buffer", () => {
    const buf = placed(fixture.hex, 13, 7);
    const decoded = decode(buf as unknown as number[], 13, octets);
    expect(decoded.type).not.toBe("error");
    expect(normalise(decoded as Message)).toEqual(normalise(fixture.message));
  });

  it("encodes to the fixture's octets", () => {
    const out: number[] = [];
    const written = encode(fixture.message, out, 0);
    expect(written).toBe(octets);
    expect(toHex(out)).toBe(fixture.hex);
  });

  it("encodes into a Buffer at an offset without touching octets outside its frame", () => {
    const buf = Buffer.alloc(octets + 20, SENTINEL);
    const written = encode(fixture.message, buf as unknown as number[], 9);
    expect(written).toBe(octets);
    expect(buf.subarray(9, 9 + octets).toString("hex")).toBe(fixture.hex);
    expect([...buf.subarray(0, 9), ...buf.subarray(9 + octets)].every((b) => b === SENTINEL)).toBe(true);
  });

  it("survives encode then decode", () => {
    const out: number[] = [];
    const written = encode(fixture.message, out, 0);
    const decoded = decode(out, 0, written);
    expect(decoded.type).not.toBe("error");
    expect(normalise(decoded as Message)).toEqual(normalise(fixture.message));
  });

  it("has the encodingLength of its octets", () => {
    expect(encodingLength(fixture.message)).toBe(octets);
  });
});

describe("malformed frames", () => {
  it("cover every DecodeErrorCode in protocol/errors.ts", () => {
    const used = new Set<string>(malformed.map((m) => m.code));
    expect(declaredErrorCodes().filter((code) => !used.has(code))).toEqual([]);
  });

  it.each(malformed)("$name: $code at $offset", (entry) => {
    const options = entry.maxClientIdLength === undefined ? undefined : { maxClientIdLength: entry.maxClientIdLength };
    const length = entry.hex.length / 2;
    expect(decode(fromHex(entry.hex), 0, length, options)).toEqual({
      type: "error",
      code: entry.code,
      offset: entry.offset,
    });
    // The offset counts from the start of the buffer, not of the frame.
    const buf = placed(entry.hex, 7, 5);
    expect(decode(buf as unknown as number[], 7, length, options)).toEqual({
      type: "error",
      code: entry.code,
      offset: 7 + entry.offset,
    });
  });
});

describe("length policies (§5.2.1)", () => {
  it("rejects a datagram longer than its Length field with trailing-bytes", () => {
    const buf = fromHex("09 0c 20 0005 0102 6869 00");
    expect(decode(buf, 0, buf.length)).toEqual({ type: "error", code: "trailing-bytes", offset: 9 });
    expect(decode(buf, 0, 9).type).toBe(MsgType.Publish);
  });

  it("accepts a non-canonical 3-octet Length below 256 and encodes it back in one octet", () => {
    const buf = fromHex("01 000b 0c 20 0005 0102 6869");
    const decoded = decode(buf, 0, buf.length);
    expect(decoded.type).toBe(MsgType.Publish);
    const p = decoded as Message & { type: MsgType.Publish };
    expect(toHex(p.data, p.dataOffset, p.dataLength)).toBe("6869");
    const out: number[] = [];
    encode(p, out, 0);
    expect(toHex(out)).toBe("090c2000050102" + "6869");
  });

  it("accepts a 3-octet PINGRESP of 4 octets", () => {
    expect(decode(fromHex("01 0004 17"), 0, 4)).toEqual({ type: MsgType.PingResp });
  });
});

describe("client id limit", () => {
  const id64 = "c".repeat(64);
  const hex = "46 04 04 01 003c" + Buffer.from(id64).toString("hex");

  it("accepts 64 octets when maxClientIdLength is 64", () => {
    const decoded = decode(fromHex(hex), 0, 70, { maxClientIdLength: 64 });
    expect(decoded).toEqual({ type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: id64 });
  });

  it("rejects the same 64 octets under the spec's 23", () => {
    expect(decode(fromHex(hex), 0, 70)).toEqual({ type: "error", code: "client-id-length", offset: 6 });
  });

  it("counts octets, not characters", () => {
    // 8 characters of 3 octets each: 24 octets, one over the spec's limit.
    const wide = Buffer.from("東".repeat(8)).toString("hex");
    expect(decode(fromHex("1e 04 04 01 003c" + wide), 0, 30)).toEqual({
      type: "error",
      code: "client-id-length",
      offset: 6,
    });
    expect(decode(fromHex("1e 04 04 01 003c" + wide), 0, 30, { maxClientIdLength: 24 })).toMatchObject({
      clientId: "東".repeat(8),
    });
  });
});

describe("decode into", () => {
  it("reuses the object it is given and returns it", () => {
    const into = {};
    const first = decode(fromHex("09 0c 20 0005 0102 6869"), 0, 9, { into });
    expect(first).toBe(into);
    expect(normalise(first as Message)).toMatchObject({ type: MsgType.Publish, topicId: 5, msgId: 258, data: "6869" });
    const second = decode(fromHex("04 0f 0102"), 0, 4, { into });
    expect(second).toBe(into);
    expect(second).toMatchObject({ type: MsgType.PubRec, msgId: 258 });
  });

  it("still returns a fresh error value for a malformed frame", () => {
    const into = {};
    const result = decode(fromHex("02 03"), 0, 2, { into });
    expect(result).not.toBe(into);
    expect(result).toEqual({ type: "error", code: "reserved-type", offset: 1 });
  });
});

describe("encode of an invalid message throws a clear Error", () => {
  const cases: { name: string; message: Message; error: RegExp }[] = [
    {
      name: "empty client id",
      message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "" },
      error: /clientId must not be empty/,
    },
    {
      name: "empty PINGREQ client id",
      message: { type: MsgType.PingReq, clientId: "" },
      error: /clientId must not be empty/,
    },
    {
      name: "empty REGISTER topic name",
      message: { type: MsgType.Register, topicId: 0, msgId: 1, topicName: "" },
      error: /topicName must not be empty/,
    },
    {
      name: "empty SUBSCRIBE topic name",
      message: {
        type: MsgType.Subscribe,
        dup: false,
        qos: 0,
        topicIdType: TopicIdType.Normal,
        msgId: 1,
        topicName: "",
        topicId: 0,
      },
      error: /topicName must not be empty/,
    },
    {
      name: "qos 3",
      message: publishWith({ qos: 3 as never }),
      error: /qos must be -1, 0, 1 or 2, got 3/,
    },
    {
      name: "qos -1 in a WILLTOPIC",
      message: { type: MsgType.WillTopic, qos: -1, retain: false, willTopic: "w" },
      error: /qos must be 0, 1 or 2, got -1/,
    },
    {
      name: "topicId 65536",
      message: publishWith({ topicId: 65536 }),
      error: /topicId must be an integer in 0..65535, got 65536/,
    },
    {
      name: "msgId 1.5",
      message: publishWith({ msgId: 1.5 }),
      error: /msgId must be an integer in 0..65535, got 1.5/,
    },
    {
      name: "topicIdType 3",
      message: publishWith({ topicIdType: 3 as never }),
      error: /topicIdType must be 0, 1 or 2, got 3/,
    },
    {
      name: "lone high surrogate in a client id",
      message: { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "a\ud83c" },
      error: /lone UTF-16 surrogate at index 1/,
    },
    {
      name: "lone low surrogate in a topic name",
      message: { type: MsgType.Register, topicId: 0, msgId: 1, topicName: "\udf21b" },
      error: /lone UTF-16 surrogate at index 0/,
    },
    {
      name: "PUBLISH over 65535 octets",
      message: publishWith({
        data: new Array<number>(65535 - 9 + 1).fill(0),
        dataOffset: 0,
        dataLength: 65535 - 9 + 1,
      }),
      error: /message is 65536 octets; MQTT-SN allows at most 65535/,
    },
    {
      name: "PUBLISH data slice past the end of its array",
      message: publishWith({ data: [1, 2, 3], dataOffset: 1, dataLength: 3 }),
      error: /dataLength must be an integer in 0..2, got 3/,
    },
    {
      name: "PUBLISH negative dataOffset",
      message: publishWith({ data: [1, 2, 3], dataOffset: -1, dataLength: 1 }),
      error: /dataOffset must be an integer in 0..3, got -1/,
    },
    {
      name: "WILLMSG slice past the end of its array",
      message: { type: MsgType.WillMsg, willMsg: [1, 2], willMsgOffset: 0, willMsgLength: 5 },
      error: /willMsgLength must be an integer in 0..2, got 5/,
    },
    {
      name: "Encapsulated inside Encapsulated",
      message: {
        type: MsgType.Encapsulated,
        radius: 0,
        wirelessNodeId: [],
        message: { type: MsgType.Encapsulated, radius: 0, wirelessNodeId: [], message: { type: MsgType.PingResp } },
      },
      error: /cannot carry another one/,
    },
    {
      name: "Encapsulated radius 4",
      message: { type: MsgType.Encapsulated, radius: 4, wirelessNodeId: [], message: { type: MsgType.PingResp } },
      error: /radius must be an integer in 0..3, got 4/,
    },
  ];

  it.each(cases)("$name", (c) => {
    expect(() => encode(c.message, [], 0)).toThrow(c.error);
    expect(() => encodingLength(c.message)).toThrow(c.error);
    expect(() => encode(c.message, [], 0)).toThrow(/cannot encode MQTT-SN message type 0x[0-9a-f]{2}|surrogate/);
  });

  it("accepts the largest PUBLISH, 65535 octets", () => {
    const data = new Array<number>(65535 - 9).fill(7);
    const message = publishWith({ data, dataOffset: 0, dataLength: data.length });
    expect(encodingLength(message)).toBe(65535);
    const out: number[] = [];
    expect(encode(message, out, 0)).toBe(65535);
    expect(toHex(out, 0, 3)).toBe("01ffff");
    expect(normalise(decode(out, 0, 65535) as Message)).toEqual(normalise(message));
  });
});

function publishWith(fields: Partial<Message & { type: MsgType.Publish }>): Message {
  return {
    type: MsgType.Publish,
    dup: false,
    qos: 1,
    retain: false,
    topicIdType: TopicIdType.Normal,
    topicId: 5,
    msgId: 1,
    data: [1],
    dataOffset: 0,
    dataLength: 1,
    ...fields,
  } as Message;
}
