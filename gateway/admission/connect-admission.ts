import { TokenBucket } from "./token-bucket";

/** ok, or why a CONNECT from a source is refused (the client hears CONNACK 0x01, congestion). */
export type ConnectAdmissionResult = "ok" | "rate" | "handshakes" | "full";

export interface ConnectAdmissionLimits {
  /** Handshakes of one source at once: will exchange (§6.3) or waiting for the broker's CONNACK. */
  maxHandshakesPerSource: number;
  /** CONNECTs accepted per second per source: the rate and the burst of a token bucket. */
  maxConnectsPerSecondPerSource: number;
  /** Sources tracked at once. */
  maxSources: number;
  /** Datagrams accepted per second per source, rate and burst of a second token bucket; 0: no limit. */
  maxDatagramsPerSecondPerSource?: number;
}

interface SourceEntry<T> {
  bucket: TokenBucket;
  /** The source's datagram bucket when datagrams are limited. */
  datagrams: TokenBucket | undefined;
  handshakes: Set<T>;
}

/** Idle sources dropped from the oldest end of the table on each admission. */
const SWEEP_PER_CALL = 2;

/**
 * Per-source admission of CONNECTs, time passed in. A source is a string (see sourceOf); a handshake is
 * any object identifying it (a session). `inHandshake` tells whether a handshake counted earlier is still
 * under way, so one whose end was never reported stops counting once it has left the handshake states.
 *
 * The table of sources is bounded by maxSources. Least recently seen first: an idle source (full bucket,
 * no handshake) is dropped as admissions go by; when the table is full, the least recently seen source
 * without a handshake is forgotten (counted in `forgotten` when its bucket was not full: its next CONNECTs
 * start from a full bucket). When every source holds a handshake, a new source is refused ("full").
 * The same table holds each source's datagram bucket (admitDatagram) when maxDatagramsPerSecondPerSource is set.
 */
export class ConnectAdmission<T> {
  private readonly sources = new Map<string, SourceEntry<T>>();
  /** Sources forgotten with a partly spent bucket because the table was full. */
  forgotten = 0;

  constructor(
    private readonly limits: ConnectAdmissionLimits,
    private readonly inHandshake: (who: T) => boolean = () => true,
  ) {}

  /** Sources tracked now. */
  get size(): number {
    return this.sources.size;
  }

  /** Whether a CONNECT from `source` may start a session now; "ok" spends one token of its bucket. */
  admitConnect(source: string, now: number): ConnectAdmissionResult {
    const entry = this.touch(source, now);
    if (entry === undefined) return "full";
    if (this.handshakesOf(entry) >= this.limits.maxHandshakesPerSource) return "handshakes";
    return entry.bucket.take(now) ? "ok" : "rate";
  }

  /**
   * Whether a datagram from `source` may be handled now: false when the source has spent its datagram bucket
   * (maxDatagramsPerSecondPerSource). Without that limit, or when the table is full of sources in their
   * handshakes, every datagram passes (the CONNECT limits still hold).
   */
  admitDatagram(source: string, now: number): boolean {
    if ((this.limits.maxDatagramsPerSecondPerSource ?? 0) <= 0) return true;
    const entry = this.touch(source, now);
    return entry?.datagrams === undefined || entry.datagrams.take(now);
  }

  /** The entry of `source`, made when new, now the most recently seen; undefined when the table is full. */
  private touch(source: string, now: number): SourceEntry<T> | undefined {
    this.sweep(now);
    let entry = this.sources.get(source);
    if (entry === undefined) {
      if (this.sources.size >= this.limits.maxSources && !this.evictOne(now)) return undefined;
      const rate = this.limits.maxConnectsPerSecondPerSource;
      const datagrams = this.limits.maxDatagramsPerSecondPerSource ?? 0;
      entry = {
        bucket: new TokenBucket(rate, rate, now),
        datagrams: datagrams > 0 ? new TokenBucket(datagrams, datagrams, now) : undefined,
        handshakes: new Set(),
      };
    } else {
      this.sources.delete(source);
    }
    this.sources.set(source, entry);
    return entry;
  }

  private bucketsFull(entry: SourceEntry<T>, now: number): boolean {
    return entry.bucket.isFull(now) && (entry.datagrams === undefined || entry.datagrams.isFull(now));
  }

  /** A session admitted for `source` is in its handshake. */
  handshakeStarted(source: string, who: T): void {
    this.sources.get(source)?.handshakes.add(who);
  }

  /** The handshake left the handshake states (active, or ended); calling it twice is harmless. */
  handshakeEnded(source: string, who: T): void {
    this.sources.get(source)?.handshakes.delete(who);
  }

  /** Handshakes of `source` under way. */
  handshakes(source: string): number {
    const entry = this.sources.get(source);
    return entry === undefined ? 0 : this.handshakesOf(entry);
  }

  private handshakesOf(entry: SourceEntry<T>): number {
    for (const who of entry.handshakes) if (!this.inHandshake(who)) entry.handshakes.delete(who);
    return entry.handshakes.size;
  }

  private isIdle(entry: SourceEntry<T>, now: number): boolean {
    return this.handshakesOf(entry) === 0 && this.bucketsFull(entry, now);
  }

  private sweep(now: number): void {
    for (let i = 0; i < SWEEP_PER_CALL; i++) {
      const oldest = this.sources.entries().next();
      if (oldest.done === true || !this.isIdle(oldest.value[1], now)) return;
      this.sources.delete(oldest.value[0]);
    }
  }

  private evictOne(now: number): boolean {
    for (const [source, entry] of this.sources) {
      if (this.handshakesOf(entry) > 0) continue;
      if (!this.bucketsFull(entry, now)) this.forgotten++;
      this.sources.delete(source);
      return true;
    }
    return false;
  }
}
