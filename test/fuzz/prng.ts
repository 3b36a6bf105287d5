/**
 * A seeded pseudo-random generator (Marsaglia's xorshift128 over four 32-bit words). The same seed gives
 * the same sequence on every run and machine, so a failing fuzz run can be replayed with its seed.
 */
export class Prng {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: string) {
    // FNV-1a over the seed's UTF-16 code units, then an integer mixer to spread it over four words.
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) + 0x9e3779b9 * (i + 1);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      h = (h ^ (h >>> 16)) >>> 0;
      words.push(h);
    }
    this.x = words[0] as number;
    this.y = words[1] as number;
    this.z = words[2] as number;
    this.w = (words[3] as number) || 1;
  }

  /** An unsigned 32-bit integer. */
  next(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** An integer in 0 .. n-1 (n ≥ 1). */
  int(n: number): number {
    return Math.floor((this.next() / 0x100000000) * n);
  }

  /** An integer in lo .. hi, both included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)] as T;
  }

  /** One entry of [weight, value] pairs, chosen in proportion to the weights. */
  weighted<T>(table: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of table) total += w;
    let r = this.int(total);
    for (const [w, v] of table) {
      if (r < w) return v;
      r -= w;
    }
    throw new Error("weighted: empty table");
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}
