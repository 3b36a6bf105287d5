import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { parser as newParser, type Packet } from "mqtt-packet";

/** One client connection that went through the relay, with the order in which things happened to it. */
export interface RelayedConnection {
  /** The CONNECT's client id, once it has arrived. */
  clientId: string | undefined;
  /** The CONNECT's will payload as text, if it carried a will. */
  will: string | undefined;
  /** Position in the relay's event order at which the CONNECT arrived from the client. */
  connectAt: number | undefined;
  /** Position at which the client's side ended (FIN, reset or close), as the relay saw it. */
  clientEndAt: number | undefined;
  /** Position at which the broker's side ended (the broker closed it, or the relay dropped it). */
  brokerEndAt: number | undefined;
  /** Whether the client sent DISCONNECT. */
  disconnected: boolean;
}

/**
 * A TCP relay in front of a real broker that reads what clients send (CONNECT and DISCONNECT) and
 * numbers every opening and ending in one order, so a test can see whether two connections of one
 * client id ever reached the broker at the same time. Bytes pass through unchanged both ways.
 */
export class Relay {
  readonly connections: RelayedConnection[] = [];
  private order = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on("connection", (client) => this.accept(client));
  }

  static async start(brokerUrl: string): Promise<Relay> {
    const url = new URL(brokerUrl);
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new Relay(server, { host: url.hostname, port: Number(url.port) });
  }

  get url(): string {
    return `mqtt://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Connections whose CONNECT carried this client id, in the order they connected. */
  of(clientId: string): RelayedConnection[] {
    return this.connections.filter((c) => c.clientId === clientId);
  }

  /** Connections of this client id still open at the broker's side. */
  openOf(clientId: string): RelayedConnection[] {
    return this.of(clientId).filter((c) => c.brokerEndAt === undefined);
  }

  /**
   * Pairs (earlier, later) of connections of this client id where the later CONNECT arrived before the
   * earlier connection had ended: at the client's side, or with `broker`, at the broker's side too.
   */
  overlaps(clientId: string, broker: boolean): Array<[number, number]> {
    const all = this.of(clientId);
    const found: Array<[number, number]> = [];
    for (let i = 1; i < all.length; i++) {
      const connectAt = all[i]?.connectAt ?? 0;
      for (let j = 0; j < i; j++) {
        const earlier = all[j];
        const endAt = broker ? earlier?.brokerEndAt : earlier?.clientEndAt;
        if (endAt === undefined || endAt > connectAt) found.push([j, i]);
      }
    }
    return found;
  }

  private accept(client: Socket): void {
    const record: RelayedConnection = {
      clientId: undefined,
      will: undefined,
      connectAt: undefined,
      clientEndAt: undefined,
      brokerEndAt: undefined,
      disconnected: false,
    };
    this.connections.push(record);
    const broker = connect({ ...this.target, allowHalfOpen: true });
    this.sockets.add(client);
    this.sockets.add(broker);
    const clientEnded = (): void => {
      record.clientEndAt ??= ++this.order;
    };
    const brokerEnded = (): void => {
      record.brokerEndAt ??= ++this.order;
    };
    const parser = newParser({ protocolVersion: 4 });
    parser.on("packet", (packet: Packet) => {
      if (packet.cmd === "connect") {
        record.clientId = packet.clientId;
        record.will = packet.will === undefined ? undefined : Buffer.from(packet.will.payload).toString();
        record.connectAt = ++this.order;
      } else if (packet.cmd === "disconnect") {
        record.disconnected = true;
      }
    });
    parser.on("error", () => undefined);
    client.on("data", (chunk: Buffer) => {
      parser.parse(chunk);
      broker.write(chunk);
    });
    client.on("end", () => {
      clientEnded();
      broker.end();
    });
    client.on("error", () => {
      clientEnded();
      brokerEnded();
      broker.destroy();
    });
    client.once("close", () => {
      clientEnded();
      this.sockets.delete(client);
      if (!broker.destroyed) {
        brokerEnded();
        broker.destroy();
      }
    });
    broker.on("data", (chunk: Buffer) => client.write(chunk));
    broker.on("end", () => {
      brokerEnded();
      client.end();
    });
    broker.on("error", () => {
      brokerEnded();
      client.destroy();
    });
    broker.once("close", () => {
      brokerEnded();
      this.sockets.delete(broker);
      client.end();
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
