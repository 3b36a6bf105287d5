import dgram from "node:dgram";
import { performance } from "node:perf_hooks";
import { MqttSnClient } from "../core/client";
import type { ClientHandler, ClientOptions } from "../core/types";

export interface NodeUdpConfig {
  /** The configured gateway (used at once, or as the fallback after discovery fails). */
  host: string;
  port: number;
  /** Where SEARCHGW goes; default 255.255.255.255 on the gateway port. */
  broadcastHost?: string;
  broadcastPort?: number;
  /** Largest message the client sends, in octets; default 256. */
  bufferSize?: number;
  /** Exchanges open at once; default 4. */
  inflight?: number;
  /** Milliseconds between tick() calls; default 100. */
  tickInterval?: number;
}

/**
 * The Node adapter: one UDP socket (node:dgram), a timer that calls tick(), and the client's buffers.
 * dgram reads the buffer after send() returns, so every datagram is copied before it leaves.
 */
export class NodeUdpClient {
  readonly client: MqttSnClient;
  private readonly socket: dgram.Socket;
  private readonly config: NodeUdpConfig;
  private gatewayHost: string;
  private gatewayPort: number;
  private senderHost = "";
  private senderPort = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Errors the socket reported after start. */
  socketErrors = 0;
  private readonly epoch = performance.now();

  constructor(handler: ClientHandler, options: ClientOptions, config: NodeUdpConfig) {
    this.config = config;
    this.gatewayHost = config.host;
    this.gatewayPort = config.port;
    const size = config.bufferSize ?? 256;
    const inflight: Uint8Array[] = [];
    for (let i = 0; i < (config.inflight ?? 4); i++) inflight.push(new Uint8Array(size));
    this.socket = dgram.createSocket("udp4");
    this.client = new MqttSnClient(
      {
        send: (bytes, length) => this.sendTo(bytes, length, this.gatewayHost, this.gatewayPort),
        broadcast: (bytes, length) =>
          this.sendTo(bytes, length, config.broadcastHost ?? "255.255.255.255", config.broadcastPort ?? config.port),
        selectGateway: (gwId) => {
          if (gwId < 0) {
            this.gatewayHost = config.host;
            this.gatewayPort = config.port;
          } else {
            this.gatewayHost = this.senderHost;
            this.gatewayPort = this.senderPort;
          }
        },
      },
      handler,
      { tx: new Uint8Array(size) as unknown as number[], inflight: inflight as unknown as number[][], size },
      options,
    );
    // A datagram socket reports little (ICMP is not delivered to unconnected sockets); what it does
    // report is counted rather than left to crash the process as an unhandled 'error' event.
    this.socket.on("error", () => {
      this.socketErrors++;
    });
    this.socket.on("message", (msg, rinfo) => {
      this.senderHost = rinfo.address;
      this.senderPort = rinfo.port;
      this.client.tick(this.now());
      this.client.receive(
        msg as unknown as number[],
        msg.length,
        rinfo.address === this.gatewayHost && rinfo.port === this.gatewayPort,
      );
    });
  }

  /** Binds an ephemeral port, then starts the client and its tick timer. */
  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once("error", reject);
      this.socket.bind(0, () => {
        this.socket.off("error", reject);
        resolve();
      });
    });
    if (this.config.broadcastHost === undefined || this.config.broadcastHost.endsWith(".255"))
      this.socket.setBroadcast(true);
    this.client.start(this.now());
    this.timer = setInterval(() => this.client.tick(this.now()), this.config.tickInterval ?? 100);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.socket.close();
  }

  private now(): number {
    return Math.floor(performance.now() - this.epoch);
  }

  private sendTo(bytes: number[], length: number, host: string, port: number): void {
    const copy = Buffer.from((bytes as unknown as Uint8Array).subarray(0, length));
    this.socket.send(copy, port, host);
  }
}
