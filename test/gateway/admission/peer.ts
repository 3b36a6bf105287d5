import { createSocket, type Socket } from "node:dgram";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../../../protocol";

/**
 * A bare MQTT-SN peer on a UDP socket bound to a chosen local host (127.0.0.2 is another source than
 * 127.0.0.1 on the loopback interface): sends messages to the gateway, collects what comes back.
 */
export class Peer {
  readonly received: Message[] = [];

  private constructor(
    private readonly socket: Socket,
    private readonly gatewayHost: string,
    private readonly gatewayPort: number,
  ) {
    socket.on("message", (frame) => {
      const m = decode(frame as unknown as Bytes, 0, frame.length);
      if (m.type !== "error") this.received.push(m);
    });
  }

  static async open(localHost: string, gateway: string): Promise<Peer> {
    const colon = gateway.lastIndexOf(":");
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, localHost, () => resolve());
    });
    return new Peer(socket, gateway.slice(0, colon), Number(gateway.slice(colon + 1)));
  }

  send(message: Message): void {
    const buf = Buffer.alloc(encodingLength(message));
    encode(message, buf as unknown as Bytes, 0);
    this.socket.send(buf, this.gatewayPort, this.gatewayHost);
  }

  connect(clientId: string, will = false): void {
    this.send({ type: MsgType.Connect, will, cleanSession: true, duration: 60, clientId });
  }

  /** Resolves with the first received message of `type`, polling until timeoutMs. */
  async next<T extends MsgType>(type: T, timeoutMs = 4000): Promise<Extract<Message, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(i, 1)[0] as Extract<Message, { type: T }>;
      if (Date.now() > deadline) throw new Error(`no message of type 0x${type.toString(16)} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.close();
  }
}
