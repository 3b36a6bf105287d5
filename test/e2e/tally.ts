/** Counts arrivals per payload: what was delivered, what more than once, what is missing from a list. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(payload: string): void {
    this.counts.set(payload, (this.counts.get(payload) ?? 0) + 1);
  }

  has(payload: string): boolean {
    return this.counts.has(payload);
  }

  /** How often payload arrived. */
  count(payload: string): number {
    return this.counts.get(payload) ?? 0;
  }

  /** Distinct payloads. */
  get unique(): number {
    return this.counts.size;
  }

  /** Arrivals beyond the first, over all payloads. */
  get duplicates(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c - 1;
    return n;
  }

  /** The payloads of `expected` that never arrived. */
  missing(expected: Iterable<string>): string[] {
    const out: string[] = [];
    for (const p of expected) if (!this.counts.has(p)) out.push(p);
    return out;
  }
}
