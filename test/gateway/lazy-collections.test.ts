import { describe, expect, it } from "vitest";
import { LazyMap, LazySet } from "../../gateway/lazy-collections";

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
}

describe("LazyMap", () => {
  it("answers as a Map does through 5,000 random operations, emptied and filled again many times", () => {
    const next = random(7);
    const lazy = new LazyMap<number, string>();
    const map = new Map<number, string>();
    for (let i = 0; i < 5000; i++) {
      const key = Math.floor(next() * 6);
      const op = next();
      if (op < 0.45) {
        expect(lazy.set(key, `v${i}`)).toBe(lazy);
        map.set(key, `v${i}`);
      } else if (op < 0.9) expect(lazy.delete(key)).toBe(map.delete(key));
      else if (op < 0.95) {
        lazy.clear();
        map.clear();
      }
      expect(lazy.size).toBe(map.size);
      expect(lazy.get(key)).toBe(map.get(key));
      expect(lazy.has(key)).toBe(map.has(key));
      expect([...lazy]).toEqual([...map]);
    }
  });

  it("iterates keys, values and entries in insertion order, and forEach passes the LazyMap itself", () => {
    const lazy = new LazyMap<string, number>();
    expect([...lazy.keys()]).toEqual([]);
    lazy.set("b", 2).set("a", 1);
    expect([...lazy.keys()]).toEqual(["b", "a"]);
    expect([...lazy.values()]).toEqual([2, 1]);
    expect([...lazy.entries()]).toEqual([
      ["b", 2],
      ["a", 1],
    ]);
    const seen: Array<[string, number, unknown]> = [];
    lazy.forEach((v, k, m) => seen.push([k, v, m]));
    expect(seen).toEqual([
      ["b", 2, lazy],
      ["a", 1, lazy],
    ]);
    expect([...new Map(lazy)]).toEqual([
      ["b", 2],
      ["a", 1],
    ]);
  });

  it("can have entries deleted while it is iterated, down to empty", () => {
    const lazy = new LazyMap<number, number>();
    for (let i = 0; i < 10; i++) lazy.set(i, i);
    const visited: number[] = [];
    for (const [k] of lazy) {
      visited.push(k);
      lazy.delete(k);
    }
    expect(visited).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(lazy.size).toBe(0);
  });
});

describe("LazySet", () => {
  it("answers as a Set does through 5,000 random operations", () => {
    const next = random(11);
    const lazy = new LazySet<number>();
    const set = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const value = Math.floor(next() * 6);
      const op = next();
      if (op < 0.45) {
        expect(lazy.add(value)).toBe(lazy);
        set.add(value);
      } else if (op < 0.9) expect(lazy.delete(value)).toBe(set.delete(value));
      else if (op < 0.95) {
        lazy.clear();
        set.clear();
      }
      expect(lazy.size).toBe(set.size);
      expect(lazy.has(value)).toBe(set.has(value));
      expect([...lazy]).toEqual([...set]);
      expect([...lazy.entries()]).toEqual([...set.entries()]);
    }
  });
});
