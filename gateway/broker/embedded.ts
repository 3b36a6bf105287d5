import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";

export interface EmbeddedBroker {
  /** mqtt://127.0.0.1:PORT */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The default broker: aedes in this process on 127.0.0.1, so mosquitto_sub or any MQTT client on the
 * machine can watch. A taken port is an error naming the flag that changes it.
 */
export async function startEmbeddedBroker(port: number, host = "127.0.0.1"): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      broker.close();
      if (err.code === "EADDRINUSE") {
        reject(
          new Error(
            `the embedded broker cannot listen on ${host}:${port}: the port is taken; choose another with --embedded-port PORT, or use a broker that is already running with --broker mqtt://HOST:PORT`,
          ),
        );
      } else {
        reject(new Error(`the embedded broker cannot listen on ${host}:${port}: ${err.message}`));
      }
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
        // Connections still open would keep server.close waiting.
        for (const socket of sockets) socket.destroy();
      }),
  };
}
