/** One peer of a DTLS link: its state and when it was last heard. */
export interface PeerEntry<T> {
  state: T;
  /** True once the handshake finished and the peer's certificate (when required) was accepted. */
  established: boolean;
  /** When the entry was made (ms). */
  since: number;
  /** When the peer was last heard (ms). */
  lastSeen: number;
}

export interface PeerTableLimits {
  /** Peers held at once, in handshake or established; a new peer beyond it is refused. */
  maxPeers: number;
  /** A peer whose handshake has not finished this long after its first ClientHello is dropped. */
  handshakeTimeoutMs: number;
  /** An established peer not heard from this long is dropped; it must handshake again. */
  idleTimeoutMs: number;
}

/**
 * The bounded table of a DTLS link's peers, keyed by address. Handshake floods fill it only up to
 * maxPeers, and every entry leaves it after handshakeTimeoutMs or idleTimeoutMs.
 */
export class PeerTable<T> {
  private readonly peers = new Map<string, PeerEntry<T>>();

  constructor(
    private readonly limits: PeerTableLimits,
    private readonly onExpire: (address: string, entry: PeerEntry<T>) => void,
  ) {}

  get size(): number {
    return this.peers.size;
  }

  get(address: string): PeerEntry<T> | undefined {
    return this.peers.get(address);
  }

  /** Adds a peer; undefined when the table is full. */
  add(address: string, state: T, now: number): PeerEntry<T> | undefined {
    if (this.peers.size >= this.limits.maxPeers) return undefined;
    const entry: PeerEntry<T> = { state, established: false, since: now, lastSeen: now };
    this.peers.set(address, entry);
    return entry;
  }

  delete(address: string): PeerEntry<T> | undefined {
    const entry = this.peers.get(address);
    this.peers.delete(address);
    return entry;
  }

  established(): [string, PeerEntry<T>][] {
    return [...this.peers].filter(([, entry]) => entry.established);
  }

  all(): [string, PeerEntry<T>][] {
    return [...this.peers];
  }

  /** Drops the peers past their handshake or idle deadline; returns how many went. */
  sweep(now: number): number {
    let dropped = 0;
    for (const [address, entry] of this.peers) {
      const late = entry.established
        ? now - entry.lastSeen > this.limits.idleTimeoutMs
        : now - entry.since > this.limits.handshakeTimeoutMs;
      if (!late) continue;
      this.peers.delete(address);
      dropped++;
      this.onExpire(address, entry);
    }
    return dropped;
  }
}
