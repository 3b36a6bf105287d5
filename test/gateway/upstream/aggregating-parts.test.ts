import { describe, expect, it, vi } from "vitest";
import { Shares } from "../../../gateway/upstream/aggregating/device";
import { SubscriptionTable, type DeviceSubscription } from "../../../gateway/upstream/aggregating/subscriptions";

function sub(device: string, filter: string, qos: 0 | 1 | 2 = 1): DeviceSubscription<string> {
  return { device, filter, qos, retainedUntil: 0 };
}

describe("SubscriptionTable (aggregating mode's union of device subscriptions)", () => {
  it("counts the devices per filter: new to the union on the first, gone from it with the last", () => {
    const table = new SubscriptionTable<string>();
    const a = sub("a", "s/#");
    const b = sub("b", "s/#");
    expect(table.add(a)).toBe(true);
    expect(table.add(b)).toBe(false);
    expect(table.filters()).toEqual(["s/#"]);
    expect(table.remove(a)).toBe(false);
    expect(table.match("s/x").map((s) => s.device)).toEqual(["b"]);
    expect(table.remove(b)).toBe(true);
    expect(table.size).toBe(0);
    expect(table.match("s/x")).toEqual([]);
  });

  it("matches as MQTT does: '+' one level, '#' the rest and the parent, no wildcard first level for '$' topics", () => {
    const table = new SubscriptionTable<string>();
    for (const s of [
      sub("hash", "#"),
      sub("plus", "+/b"),
      sub("sys", "$SYS/#"),
      sub("parent", "a/#"),
      sub("exact", "a/b"),
    ])
      table.add(s);
    const devices = (topic: string): string[] =>
      table
        .match(topic)
        .map((s) => s.device)
        .sort();
    expect(devices("a/b")).toEqual(["exact", "hash", "parent", "plus"]);
    expect(devices("a")).toEqual(["hash", "parent"]);
    expect(devices("x/b")).toEqual(["hash", "plus"]);
    expect(devices("$SYS/load")).toEqual(["sys"]);
    expect(devices("/b")).toEqual(["hash", "plus"]);
  });
});

describe("Shares (acknowledging a fanned-out broker message)", () => {
  it("acknowledges once, when the last share is settled; settling again does nothing", () => {
    const ack = vi.fn();
    const shares = new Shares(3, ack, 60_000);
    shares.settleOne();
    shares.settleOne();
    expect(ack).not.toHaveBeenCalled();
    shares.settleOne();
    shares.settleOne();
    expect(ack).toHaveBeenCalledTimes(1);
  });

  it("acknowledges after the wait at the latest, once, whatever the devices do later", () => {
    vi.useFakeTimers();
    try {
      const ack = vi.fn();
      const shares = new Shares(2, ack, 2000);
      shares.settleOne();
      vi.advanceTimersByTime(1999);
      expect(ack).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(ack).toHaveBeenCalledTimes(1);
      shares.settleOne();
      expect(ack).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
