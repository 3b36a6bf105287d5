import dgram from "node:dgram";

/**
 * A recording UDP relay on 127.0.0.1 in front of a gateway: the client sends to the relay, which
 * forwards to the gateway from its own socket and relays the answers back. Every datagram is
 * recorded each way, as "> hex" (client to gateway) and "< hex" (gateway to client). One client.
 */
export class RecordingRelay {
  readonly transcript: string[] = [];
  private readonly front = dgram.createSocket("udp4");
  private readonly back = dgram.createSocket("udp4");
  private client: { address: string; port: number } | undefined;

  constructor(
    private readonly gatewayHost: string,
    private readonly gatewayPort: number,
  ) {}

  async start(): Promise<number> {
    this.front.on("message", (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.transcript.push("> " + msg.toString("hex"));
      this.back.send(msg, this.gatewayPort, this.gatewayHost);
    });
    this.back.on("message", (msg) => {
      this.transcript.push("< " + msg.toString("hex"));
      if (this.client) this.front.send(msg, this.client.port, this.client.address);
    });
    await new Promise<void>((resolve) => this.front.bind(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => this.back.bind(0, "127.0.0.1", resolve));
    return this.front.address().port;
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}
