import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../../gateway/admission/token-bucket";

describe("TokenBucket (time passed in)", () => {
  it("starts full: admits `capacity` events at one instant, then refuses", () => {
    const bucket = new TokenBucket(3, 3, 1000);
    expect([1, 2, 3, 4].map(() => bucket.take(1000))).toEqual([true, true, true, false]);
  });

  it("refills at perSecond tokens a second, in proportion to the time passed", () => {
    const bucket = new TokenBucket(4, 10, 0);
    for (let i = 0; i < 4; i++) bucket.take(0);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect(bucket.take(100)).toBe(false);
    expect(bucket.take(300)).toBe(true);
    expect(bucket.take(300)).toBe(true);
    expect(bucket.take(300)).toBe(false);
  });

  it("never holds more than its capacity, however long it rests", () => {
    const bucket = new TokenBucket(2, 1, 0);
    expect(bucket.isFull(0)).toBe(true);
    bucket.take(0);
    expect(bucket.isFull(500)).toBe(false);
    expect(bucket.isFull(1000)).toBe(true);
    const taken = [1, 2, 3].map(() => bucket.take(3_600_000));
    expect(taken).toEqual([true, true, false]);
  });

  it("refills nothing when the clock steps back", () => {
    const bucket = new TokenBucket(1, 1, 10_000);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(5_000)).toBe(false);
    expect(bucket.take(10_999)).toBe(false);
    expect(bucket.take(11_000)).toBe(true);
  });
});
