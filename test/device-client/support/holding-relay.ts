import dgram from "node:dgram";

/**
 * A UDP relay on 127.0.0.1 in front of a gateway that can hold what its one client sends. Once a
 * datagram from the gateway matches holdAfter's test, everything the client sends from then on is
 * queued instead of forwarded: holding starts before that datagram is relayed to the client, so all
 * the client sends in answer to it is held. release() forwards the queue in order and relays freely
 * again. The gateway behind may be replaced on the same port meanwhile.
 */
export class HoldingRelay {
  /** Resolves when holding starts. */
  readonly holding: Promise<void>;
  private readonly front = dgram.createSocket("udp4");
  private readonly back = dgram.createSocket("udp4");
  private client: { address: string; port: number } | undefined;
  private held: Buffer[] | undefined;
  private startHolding: () => void = () => {};

  constructor(
    private readonly gatewayHost: string,
    private readonly gatewayPort: number,
    private readonly holdAfter: (fromGateway: Buffer) => boolean,
  ) {
    this.holding = new Promise((resolve) => (this.startHolding = resolve));
  }

  async start(): Promise<number> {
    let armed = true;
    this.front.on("message", (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      if (this.held) this.held.push(msg);
      else this.back.send(msg, this.gatewayPort, this.gatewayHost);
    });
    this.back.on("message", (msg) => {
      if (armed && this.holdAfter(msg)) {
        armed = false;
        this.held = [];
        this.startHolding();
      }
      if (this.client) this.front.send(msg, this.client.port, this.client.address);
    });
    await new Promise<void>((resolve) => this.front.bind(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => this.back.bind(0, "127.0.0.1", resolve));
    return this.front.address().port;
  }

  /** Forwards what was held, in order; returns how many datagrams that was. */
  release(): number {
    const held = this.held ?? [];
    this.held = undefined;
    for (const msg of held) this.back.send(msg, this.gatewayPort, this.gatewayHost);
    return held.length;
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}
