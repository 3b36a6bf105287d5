import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

/** What happens to datagrams going one way: each probability in [0, 1]. */
export interface Impairment {
  /** The datagram is dropped. */
  loss: number;
  /** A datagram that is not dropped is sent twice. */
  duplicate: number;
  /** A datagram that is not dropped is held back and sent after the next one (or after holdMs). */
  reorder: number;
}

export interface LinkCounts {
  received: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  sent: number;
}

export interface LossyLinkOptions {
  /** Where datagrams from devices go: the gateway. */
  target: { host: string; port: number };
  /** Seed of the pseudo-random sequence; the same seed and the same datagrams give the same decisions. */
  seed: number;
  /** Device → gateway. */
  up: Impairment;
  /** Gateway → device. */
  down: Impairment;
  /** How long a held-back datagram waits for a successor before it is sent anyway; default 50 ms. */
  holdMs?: number;
}

/**
 * xorshift32: a small deterministic pseudo-random source, one sequence per direction so the decisions
 * for one direction do not depend on how the other direction's datagrams interleave with it.
 */
export class Xorshift32 {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }
  /** A number in [0, 1). */
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x / 4294967296;
  }
}

/** The fate of one datagram, drawn from three numbers of the sequence whatever the outcome. */
export interface Fate {
  drop: boolean;
  copies: 1 | 2;
  holdBack: boolean;
}

export function decide(random: Xorshift32, impairment: Impairment): Fate {
  const a = random.next();
  const b = random.next();
  const c = random.next();
  return { drop: a < impairment.loss, copies: b < impairment.duplicate ? 2 : 1, holdBack: c < impairment.reorder };
}

class Direction {
  readonly counts: LinkCounts = { received: 0, dropped: 0, duplicated: 0, reordered: 0, sent: 0 };
  private readonly random: Xorshift32;
  private held: { send: () => void; copies: number; timer: NodeJS.Timeout } | undefined;

  constructor(
    seed: number,
    private readonly impairment: Impairment,
    private readonly holdMs: number,
  ) {
    this.random = new Xorshift32(seed);
  }

  pass(send: () => void): void {
    this.counts.received++;
    const fate = decide(this.random, this.impairment);
    if (fate.drop) {
      this.counts.dropped++;
      return;
    }
    if (fate.copies === 2) this.counts.duplicated++;
    if (fate.holdBack && this.held === undefined) {
      this.counts.reordered++;
      const timer = setTimeout(() => this.release(), this.holdMs);
      this.held = { send, copies: fate.copies, timer };
      return;
    }
    this.emit(send, fate.copies);
    this.release();
  }

  private emit(send: () => void, copies: number): void {
    for (let i = 0; i < copies; i++) {
      send();
      this.counts.sent++;
    }
  }

  /** Forgets a held-back datagram without sending it. */
  discard(): void {
    if (this.held !== undefined) clearTimeout(this.held.timer);
    this.held = undefined;
  }

  release(): void {
    const h = this.held;
    if (h === undefined) return;
    this.held = undefined;
    clearTimeout(h.timer);
    this.emit(h.send, h.copies);
  }
}

/**
 * A user-space UDP proxy on 127.0.0.1 between devices and a gateway, for links this kernel cannot
 * impair (no netem): datagrams are dropped, duplicated or held back behind the next one with the given
 * probabilities, per direction, from a seeded pseudo-random sequence. Each device address gets its own
 * socket toward the gateway, so the gateway sees one address per device.
 */
export class LossyLink {
  private readonly up: Direction;
  private readonly down: Direction;
  private readonly toGateway = new Map<string, Socket>();
  private closed = false;

  private constructor(
    private readonly front: Socket,
    private readonly options: LossyLinkOptions,
  ) {
    const holdMs = options.holdMs ?? 50;
    this.up = new Direction(options.seed, options.up, holdMs);
    this.down = new Direction(options.seed ^ 0x5bd1e995, options.down, holdMs);
    front.on("message", (datagram, from) => this.fromDevice(datagram, from));
  }

  static async open(options: LossyLinkOptions): Promise<LossyLink> {
    const front = createSocket("udp4");
    await new Promise<void>((resolve) => front.bind(0, "127.0.0.1", () => resolve()));
    return new LossyLink(front, options);
  }

  /** Where devices send: the proxy's own port on 127.0.0.1. */
  get port(): number {
    return this.front.address().port;
  }

  counts(): { up: LinkCounts; down: LinkCounts } {
    return { up: { ...this.up.counts }, down: { ...this.down.counts } };
  }

  private fromDevice(datagram: Buffer, from: RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let back = this.toGateway.get(key);
    if (back === undefined) {
      const socket = createSocket("udp4");
      socket.bind(0, "127.0.0.1");
      socket.on("message", (reply) =>
        this.down.pass(() => {
          if (!this.closed) this.front.send(reply, from.port, from.address);
        }),
      );
      this.toGateway.set(key, socket);
      back = socket;
    }
    const socket = back;
    const { host, port } = this.options.target;
    this.up.pass(() => {
      if (!this.closed) socket.send(datagram, port, host);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up.discard();
    this.down.discard();
    const sockets = [this.front, ...this.toGateway.values()];
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
