import { describe, expect, it } from "vitest";
import { crc16, type Bytes } from "../../protocol";
import { RawDecoder } from "../../transports/serial/raw";
import { encodeSlip, SlipDecoder } from "../../transports/serial/slip";

const hex = (s: string) =>
  Uint8Array.from(
    s
      .split(" ")
      .filter(Boolean)
      .map((h) => parseInt(h, 16)),
  );
const ascii = (s: string) => new TextEncoder().encode(s);
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
/** The CRC the serial framing uses (protocol/slip.ts), over a Uint8Array. */
const crc16CcittFalse = (b: Uint8Array, offset = 0, length = b.length - offset) =>
  crc16(b as unknown as Bytes, offset, length);

describe("CRC-16/CCITT-FALSE of the serial framing", () => {
  it.each([
    ["the check value: ASCII 123456789", ascii("123456789"), 0x29b1],
    ["one octet 'A'", ascii("A"), 0xb915],
    ["no octets: the initial value", new Uint8Array(0), 0xffff],
    ["PINGREQ 02 16", hex("02 16"), 0x099a],
    ["a message holding END and ESC", hex("04 c0 db 00"), 0xa11b],
  ])("%s", (_name, bytes, crc) => {
    expect(crc16CcittFalse(bytes)).toBe(crc);
  });

  it("covers only the given range", () => {
    expect(crc16CcittFalse(ascii("xx123456789yy"), 2, 9)).toBe(0x29b1);
  });
});

describe("SLIP framing", () => {
  it("frames PUBLISH topicId 0x00C0 '21.5' as hardware/serial-framing.md shows", () => {
    const publish = hex("0b 0c 20 00 c0 00 01 32 31 2e 35");
    expect(toHex(encodeSlip(publish))).toBe("c0 0b 0c 20 00 db dc 00 01 32 31 2e 35 e2 b6 c0");
  });

  it("escapes END and ESC in the message", () => {
    expect(toHex(encodeSlip(hex("04 c0 db 00")))).toBe("c0 04 db dc db dd 00 a1 1b c0");
  });

  it("decodes what it encodes, in chunks of any size", () => {
    const messages = [hex("02 16"), hex("04 c0 db 00"), hex("0b 0c 20 00 c0 00 01 32 31 2e 35")];
    const stream = Uint8Array.from(messages.flatMap((m) => Array.from(encodeSlip(m))));
    for (const size of [1, 2, 3, 7, stream.length]) {
      const got: string[] = [];
      const decoder = new SlipDecoder(64, (m) => got.push(toHex(m)));
      for (let i = 0; i < stream.length; i += size) decoder.push(stream.subarray(i, i + size));
      expect(got).toEqual(messages.map(toHex));
      expect(decoder.counters.frames).toBe(3);
    }
  });

  it("drops and counts a frame with a bad CRC, and keeps the next one", () => {
    const good = encodeSlip(hex("02 16"));
    const bad = encodeSlip(hex("02 16"));
    bad[3] = (bad[3] as number) ^ 0x01;
    const got: string[] = [];
    const decoder = new SlipDecoder(64, (m) => got.push(toHex(m)));
    decoder.push(bad);
    decoder.push(good);
    expect(got).toEqual(["02 16"]);
    expect(decoder.counters.badCrc).toBe(1);
  });

  it("counts an invalid escape and a too-short frame as malformed", () => {
    const got: Uint8Array[] = [];
    const decoder = new SlipDecoder(64, (m) => got.push(m));
    decoder.push(hex("c0 02 db 01 16 aa c0"));
    decoder.push(hex("c0 02 c0"));
    expect(got).toHaveLength(0);
    expect(decoder.counters.malformed).toBe(2);
  });

  it("drops a frame longer than the bound whole and resumes at the next END", () => {
    const got: string[] = [];
    const decoder = new SlipDecoder(4, (m) => got.push(toHex(m)));
    decoder.push(encodeSlip(hex("05 0c 01 02 03")));
    decoder.push(encodeSlip(hex("04 0c 01 02")));
    expect(got).toEqual(["04 0c 01 02"]);
    expect(decoder.counters.oversize).toBe(1);
  });

  it("ignores empty frames and line noise before the first END costs only that frame", () => {
    const got: string[] = [];
    const decoder = new SlipDecoder(64, (m) => got.push(toHex(m)));
    decoder.push(hex("c0 c0 c0"));
    decoder.push(hex("11 22 33"));
    decoder.push(encodeSlip(hex("02 16")));
    expect(got).toEqual(["02 16"]);
    expect(decoder.counters.badCrc + decoder.counters.malformed).toBe(1);
  });
});

describe("raw framing", () => {
  const collect = (max = 256) => {
    const got: string[] = [];
    const decoder = new RawDecoder(max, (m) => got.push(toHex(m)));
    return { got, decoder };
  };

  it("splits back-to-back messages by their Length, one octet at a time", () => {
    const { got, decoder } = collect();
    const stream = hex("02 16 03 18 00 0b 0c 20 00 c0 00 01 32 31 2e 35");
    for (const octet of stream) decoder.push(Uint8Array.of(octet));
    expect(got).toEqual(["02 16", "03 18 00", "0b 0c 20 00 c0 00 01 32 31 2e 35"]);
    expect(decoder.pending).toBe(0);
  });

  it("reads the 3-octet Length form", () => {
    const { got, decoder } = collect(1024);
    const message = new Uint8Array(300);
    message.set([0x01, 0x01, 0x2c, 0x0c, 0x00, 0x00, 0x01, 0x00, 0x00]);
    decoder.push(message);
    expect(got).toHaveLength(1);
    expect(got[0]?.startsWith("01 01 2c 0c")).toBe(true);
  });

  it("delimits an Encapsulated message by its header Length plus the inner Length (§5.5)", () => {
    const { got, decoder } = collect();
    decoder.push(hex("04 fe 00 07 02 16 05 fe 00 0a 0b 03 18 00"));
    expect(got).toEqual(["04 fe 00 07 02 16", "05 fe 00 0a 0b 03 18 00"]);
  });

  it("skips garbage one octet at a time: zero Length, reserved types, nested encapsulation", () => {
    const { got, decoder } = collect(16);
    decoder.push(hex("00 00 05 ff 1e 03 11 00 02 16 04 fe 00 01 04 fe 00 01 02 16"));
    expect(got).toEqual(["02 16", "04 fe 00 01 02 16"]);
    expect(decoder.counters.garbageOctets).toBe(9);
    expect(decoder.counters.oversize).toBe(3);
  });

  it("refuses a Length beyond the bound and resynchronises after it", () => {
    const { got, decoder } = collect(16);
    decoder.push(hex("40 0c ff 02 16"));
    expect(got).toEqual(["02 16"]);
    expect(decoder.counters.oversize).toBe(2);
    expect(decoder.counters.garbageOctets).toBe(1);
  });

  it("waits for a plausible but incomplete frame, and expire() clears it, keeping whole frames behind it", () => {
    const { got, decoder } = collect();
    decoder.push(hex("30 16 02 16"));
    expect(got).toEqual([]);
    expect(decoder.pending).toBe(4);
    decoder.expire();
    expect(got).toEqual(["02 16"]);
    expect(decoder.pending).toBe(0);
    expect(decoder.counters.garbageOctets).toBe(2);
  });

  it("never holds more than its bound", () => {
    const { decoder } = collect(32);
    for (let i = 0; i < 100; i++) decoder.push(hex("1f 0c 00 00"));
    expect(decoder.pending).toBeLessThanOrEqual(32);
  });
});

describe("the examples of hardware/serial-framing.md", () => {
  const publish = hex("0b 0c 20 00 c0 00 01 32 31 2e 35");

  it("CRC register after each octet of the PUBLISH", () => {
    const after = Array.from(publish, (_, i) =>
      crc16CcittFalse(publish, 0, i + 1)
        .toString(16)
        .padStart(4, "0"),
    );
    expect(after).toEqual(["509b", "0079", "5d62", "e958", "ed4b", "6783", "8f60", "1676", "2285", "448c", "e2b6"]);
  });

  it("the forwarder's frame for node 0x2A and the PINGREQ frame", () => {
    expect(toHex(encodeSlip(hex("04 fe 00 2a 0b 0c 20 00 c0 00 01 32 31 2e 35")))).toBe(
      "c0 04 fe 00 2a 0b 0c 20 00 db dc 00 01 32 31 2e 35 57 df c0",
    );
    expect(toHex(encodeSlip(hex("02 16")))).toBe("c0 02 16 09 9a c0");
  });

  it("the raw stream with garbage on a port with MTU 64", () => {
    const got: string[] = [];
    const decoder = new RawDecoder(64, (m) => got.push(toHex(m)));
    decoder.push(hex("00 00 00 02 16 ff fe 80 00 0b 0c 20 00 c0 00 01 32 31 2e 35"));
    expect(got).toEqual(["02 16", toHex(publish)]);
    expect(decoder.counters).toMatchObject({ garbageOctets: 5, oversize: 2 });
  });
});
