import { describe, expect, it } from "vitest";
import { IncomingAcks } from "../../../gateway/upstream/incoming-acks";
import { MAX_PACKET_ID, PacketIds } from "../../../gateway/upstream/packet-ids";

describe("PacketIds", () => {
  it("hands out 1..65535 in turn, skips identifiers in use after wrapping, and refuses with 0 when all are taken", () => {
    const ids = new PacketIds<string>();
    expect([ids.add("a"), ids.add("b"), ids.add("c")]).toEqual([1, 2, 3]);
    expect(ids.take(2)).toBe("b");
    expect(ids.take(2)).toBeUndefined();
    // The next one follows the last handed out, not the lowest free one.
    expect(ids.add("d")).toBe(4);
    const outOfTurn: number[] = [];
    for (let i = 5; i <= MAX_PACKET_ID; i++) if (ids.add("x") !== i) outOfTurn.push(i);
    expect(outOfTurn).toEqual([]);
    expect(ids.size).toBe(MAX_PACKET_ID - 1);
    // Wrapped: 1 is in use, 2 is free.
    expect(ids.add("e")).toBe(2);
    expect(ids.size).toBe(MAX_PACKET_ID);
    expect(ids.add("f")).toBe(0);
    expect(ids.get(2)).toBe("e");
    expect(ids.takeAll().slice(0, 3)).toEqual(["a", "c", "d"]);
    expect(ids.size).toBe(0);
    expect(ids.add("g")).toBe(3);
  });
});

describe("IncomingAcks", () => {
  it("QoS 1: delivered once while held, PUBACK once, then the identifier is new", () => {
    const acks = new IncomingAcks();
    expect(acks.arrived(5, 1)).toBe("deliver");
    expect(acks.arrived(5, 1)).toBe("ignore");
    expect(acks.release(5)).toBe("puback");
    expect(acks.release(5)).toBeUndefined();
    expect(acks.arrived(5, 1)).toBe("deliver");
  });

  it("QoS 2: PUBREC at release, again for a resend after it; PUBREL answered only after PUBREC, and for unknown identifiers", () => {
    const acks = new IncomingAcks();
    expect(acks.arrived(9, 2)).toBe("deliver");
    expect(acks.pubrel(9)).toBe(false);
    expect(acks.arrived(9, 2)).toBe("ignore");
    expect(acks.release(9)).toBe("pubrec");
    expect(acks.release(9)).toBeUndefined();
    expect(acks.arrived(9, 2)).toBe("pubrec");
    expect(acks.pubrel(9)).toBe(true);
    expect(acks.size).toBe(0);
    expect(acks.pubrel(9)).toBe(true);
    expect(acks.arrived(9, 2)).toBe("deliver");
  });
});
