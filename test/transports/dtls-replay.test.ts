import { describe, expect, it } from "vitest";
import { ReplayWindow, splitRecords } from "../../transports/dtls-replay";

const take = (w: ReplayWindow, epoch: number, seq: number): boolean => {
  if (!w.fresh(epoch, BigInt(seq))) return false;
  w.mark(epoch, BigInt(seq));
  return true;
};

describe("DTLS replay window (RFC 6347 §4.1.2.6)", () => {
  it("takes each number once, late ones within 64 of the highest, none older", () => {
    const w = new ReplayWindow();
    expect(take(w, 1, 5)).toBe(true);
    expect(take(w, 1, 5)).toBe(false);
    expect(take(w, 1, 3)).toBe(true);
    expect(take(w, 1, 3)).toBe(false);
    expect(take(w, 1, 100)).toBe(true);
    expect(take(w, 1, 37)).toBe(true);
    expect(take(w, 1, 36)).toBe(false);
    expect(take(w, 1, 5)).toBe(false);
  });

  it("moves only for marked numbers: a number checked but not marked (did not authenticate) stays fresh", () => {
    const w = new ReplayWindow();
    expect(take(w, 1, 1)).toBe(true);
    expect(w.fresh(1, 1000n)).toBe(true);
    expect(take(w, 1, 2)).toBe(true);
    expect(w.fresh(1, 1000n)).toBe(true);
  });

  it("starts afresh on a newer epoch and refuses an older one", () => {
    const w = new ReplayWindow();
    expect(take(w, 1, 9)).toBe(true);
    expect(take(w, 2, 0)).toBe(true);
    expect(take(w, 1, 10)).toBe(false);
  });

  it("splits a datagram into its records and stops at a truncated one", () => {
    const record = (type: number, seq: number, body: number[]) =>
      Buffer.from([type, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, seq, 0, body.length, ...body]);
    const two = Buffer.concat([record(23, 7, [1, 2]), record(21, 8, [3])]);
    const records = splitRecords(Buffer.concat([two, Buffer.from([23, 0xfe])]));
    expect(records.map((r) => [r.type, r.epoch, Number(r.sequence), r.bytes.length])).toEqual([
      [23, 1, 7, 15],
      [21, 1, 8, 14],
    ]);
  });
});
