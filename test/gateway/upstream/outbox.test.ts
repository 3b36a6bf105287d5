import { describe, expect, it } from "vitest";
import { generate, parser as newParser, type Packet } from "mqtt-packet";
import { Outbox } from "../../../gateway/upstream/outbox";

/** Every packet mqtt-packet's parser reads from bytes. */
function parse(bytes: Buffer): Packet[] {
  const parser = newParser({ protocolVersion: 4 });
  const packets: Packet[] = [];
  parser.on("packet", (p: Packet) => packets.push(p));
  parser.on("error", (e: Error) => {
    throw e;
  });
  parser.parse(bytes);
  return packets;
}

describe("Outbox", () => {
  // Payload lengths either side of each step of the Remaining Length encoding (MQTT 3.1.1 §2.2.3).
  const sizes = [0, 1, 120, 121, 122, 16_370, 16_371, 16_372, 70_000];
  for (const qos of [0, 1, 2] as const) {
    for (const size of sizes) {
      it(`encodes PUBLISH QoS ${qos} with ${size} octets of payload as mqtt-packet does`, () => {
        const payload = Buffer.alloc(size, 0x5a);
        const topic = "farm/séchoir/température";
        for (const [retain, dup] of [
          [false, false],
          [true, true],
        ] as const) {
          const outbox = new Outbox();
          expect(outbox.publish(topic, payload, qos, retain, dup, 0x1234)).toBe(true);
          const expected = generate({
            cmd: "publish",
            topic,
            payload,
            qos,
            retain,
            dup,
            ...(qos > 0 ? { messageId: 0x1234 } : {}),
          });
          expect(outbox.take()).toEqual(expected);
        }
      });
    }
  }

  it("keeps packets in the order written, across growth, and is empty after take", () => {
    const outbox = new Outbox();
    const ping = generate({ cmd: "pingreq" });
    for (let i = 0; i < 200; i++) {
      outbox.append(ping);
      expect(outbox.publish(`t/${i}`, Buffer.from(`m${i}`), 1, false, false, i + 1)).toBe(true);
    }
    const packets = parse(outbox.take() as Buffer);
    expect(packets).toHaveLength(400);
    for (let i = 0; i < 200; i++) {
      expect(packets[2 * i]?.cmd).toBe("pingreq");
      expect(packets[2 * i + 1]).toMatchObject({ cmd: "publish", topic: `t/${i}`, messageId: i + 1 });
      expect(String((packets[2 * i + 1] as { payload: Buffer }).payload)).toBe(`m${i}`);
    }
    expect(outbox.length).toBe(0);
    expect(outbox.take()).toBeUndefined();
  });

  it("refuses a topic longer than 65,535 octets and writes nothing", () => {
    const outbox = new Outbox();
    outbox.append(generate({ cmd: "pingreq" }));
    expect(outbox.publish("é".repeat(32_768), Buffer.from("x"), 0, false, false, 0)).toBe(false);
    expect(outbox.publish("a".repeat(65_535), Buffer.from("x"), 0, false, false, 0)).toBe(true);
    const packets = parse(outbox.take() as Buffer);
    expect(packets.map((p) => p.cmd)).toEqual(["pingreq", "publish"]);
  });
});
