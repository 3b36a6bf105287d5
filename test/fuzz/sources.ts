import { createSocket, type Socket } from "node:dgram";

/** Loopback addresses the sources bind to: Linux answers the whole of 127.0.0.0/8 on lo. */
const HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"];

/**
 * The fuzzer's senders: one UDP socket per source, on several ports of 127.0.0.1 and on 127.0.0.2 and
 * 127.0.0.3, so the gateway sees many addresses. Whatever the gateway answers is read and counted.
 */
export class Sources {
  received = 0;
  sendErrors = 0;

  private constructor(private readonly sockets: Socket[]) {
    for (const socket of sockets) {
      socket.on("message", () => this.received++);
      socket.on("error", () => this.sendErrors++);
    }
  }

  static async open(count: number): Promise<Sources> {
    const sockets: Socket[] = [];
    for (let i = 0; i < count; i++) sockets.push(await bind(HOSTS[i % HOSTS.length] as string));
    return new Sources(sockets);
  }

  /** The distinct "host:port" addresses in use. */
  addresses(): string[] {
    return this.sockets.map((s) => `${s.address().address}:${s.address().port}`);
  }

  send(source: number, bytes: Uint8Array, port: number, host: string): void {
    (this.sockets[source] as Socket).send(bytes, port, host);
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** A socket on host, or on 127.0.0.1 where host cannot be bound (a loopback that answers only 127.0.0.1). */
async function bind(host: string): Promise<Socket> {
  const socket = createSocket("udp4");
  const bound = await new Promise<boolean>((resolve) => {
    socket.once("error", () => resolve(false));
    socket.bind(0, host, () => resolve(true));
  });
  if (bound || host === "127.0.0.1") return socket;
  socket.close();
  return bind("127.0.0.1");
}
