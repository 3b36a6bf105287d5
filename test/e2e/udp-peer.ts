import { createSocket, type Socket } from "node:dgram";
import { decode, encode, encodingLength, type Bytes, type Message } from "../../protocol";

/**
 * A bare MQTT-SN peer over UDP bound to a chosen local address (127.0.0.2 is a second source address
 * on Linux loopback): sends messages and records every decoded reply, in arrival order.
 */
export class UdpPeer {
  readonly received: Message[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
    private readonly port: number,
  ) {
    socket.on("message", (frame) => {
      const m = decode(frame as unknown as Bytes, 0, frame.length);
      if (m.type === "error") throw new Error(`gateway sent an undecodable frame: ${m.code} ${frame.toString("hex")}`);
      this.received.push(m);
    });
  }

  /** A socket on localAddress (any free port) talking to the gateway at "HOST:PORT". */
  static async open(gateway: string, localAddress = "127.0.0.1"): Promise<UdpPeer> {
    const colon = gateway.lastIndexOf(":");
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, localAddress, () => resolve());
    });
    return new UdpPeer(socket, gateway.slice(0, colon), Number(gateway.slice(colon + 1)));
  }

  send(message: Message): void {
    const buf = Buffer.alloc(encodingLength(message));
    encode(message, buf as unknown as Bytes, 0);
    this.socket.send(buf, this.port, this.host);
  }

  /** The first reply (since the start) that matches, waiting up to timeoutMs for it. */
  async first(match: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.received.find(match);
      if (m !== undefined) return m;
      if (Date.now() > deadline)
        throw new Error(
          `no matching reply within ${timeoutMs} ms; received types: ${this.received.map((r) => r.type).join(",")}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
