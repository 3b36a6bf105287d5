import dgram from "node:dgram";
import { lookup } from "node:dns/promises";
import { performance } from "node:perf_hooks";
import { MqttSnClient } from "../core/client";
import type { ClientHandler, ClientOptions } from "../core/types";

export interface NodeUdpConfig {
  /**
   * The configured gateway (used at once, or as the fallback after discovery fails): a host name, an
   * IPv4 or an IPv6 address. start() resolves it once; a name with addresses of both families is used
   * by its IPv4 address.
   */
  host: string;
  port: number;
  /** Where SEARCHGW goes, an address of the gateway's family; default 255.255.255.255 (IPv4) or ff02::1 (IPv6). */
  broadcastHost?: string;
  broadcastPort?: number;
  /** Largest message the client sends, in octets; default 256. */
  bufferSize?: number;
  /** Exchanges open at once; default 4. */
  inflight?: number;
  /** Milliseconds between tick() calls; default 100. */
  tickInterval?: number;
  /** Datagrams handed to the socket whose send has not completed, at which publish() returns Busy (-2); default 4. */
  maxPending?: number;
}

/**
 * The Node adapter: one UDP socket (node:dgram) of the gateway's address family, a timer that calls
 * tick(), and the client's buffers. dgram reads the buffer after send() returns, so every datagram is
 * copied before it leaves. Datagrams count as the gateway's when they come from the address the host
 * resolved to, so a host name or an IPv6 address matches the sender's address as the socket reports it.
 *
 * Backpressure: node:dgram sends asynchronously and queues what it cannot send yet. The adapter counts
 * the sends whose callback has not come; at maxPending the transport is busy, and each completed send
 * calls tick(), which calls handler.ready() as soon as the count is below the bound again.
 */
export class NodeUdpClient {
  readonly client: MqttSnClient;
  private socket: dgram.Socket | undefined;
  private readonly config: NodeUdpConfig;
  /** The configured gateway's address, set by start(). */
  address = "";
  private broadcastHost = "";
  private gatewayHost = "";
  private gatewayPort: number;
  private senderHost = "";
  private senderPort = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Errors the socket reported after start. */
  socketErrors = 0;
  /** Sends handed to the socket whose callback has not come yet. */
  private pending = 0;
  private readonly epoch = performance.now();

  constructor(handler: ClientHandler, options: ClientOptions, config: NodeUdpConfig) {
    this.config = config;
    this.gatewayPort = config.port;
    const size = config.bufferSize ?? 256;
    const inflight: Uint8Array[] = [];
    for (let i = 0; i < (config.inflight ?? 4); i++) inflight.push(new Uint8Array(size));
    this.client = new MqttSnClient(
      {
        send: (bytes, length) => this.sendTo(bytes, length, this.gatewayHost, this.gatewayPort),
        broadcast: (bytes, length) =>
          this.sendTo(bytes, length, this.broadcastHost, config.broadcastPort ?? config.port),
        selectGateway: (gwId) => {
          if (gwId < 0) {
            this.gatewayHost = this.address;
            this.gatewayPort = config.port;
          } else {
            this.gatewayHost = this.senderHost;
            this.gatewayPort = this.senderPort;
          }
        },
        busy: () => this.pending >= (config.maxPending ?? 4),
      },
      handler,
      { tx: new Uint8Array(size) as unknown as number[], inflight: inflight as unknown as number[][], size },
      options,
    );
  }

  /**
   * Resolves the host once (rejects when it does not resolve), binds an ephemeral port on a socket of
   * its family, then starts the client and its tick timer.
   */
  async start(): Promise<void> {
    // verbatim: false says the same as order to Node 20 releases before `order` (20.13).
    const resolved = await lookup(this.config.host, { order: "ipv4first", verbatim: false });
    this.address = resolved.address;
    this.gatewayHost = resolved.address;
    const ipv6 = resolved.family === 6;
    this.broadcastHost = this.config.broadcastHost ?? (ipv6 ? "ff02::1" : "255.255.255.255");
    const socket = dgram.createSocket(ipv6 ? "udp6" : "udp4");
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    // A datagram socket reports little (ICMP is not delivered to unconnected sockets); what it does
    // report is counted rather than left to crash the process as an unhandled 'error' event.
    socket.on("error", () => {
      this.socketErrors++;
    });
    socket.on("message", (msg, rinfo) => {
      this.senderHost = rinfo.address;
      this.senderPort = rinfo.port;
      this.client.tick(this.now());
      this.client.receive(
        msg as unknown as number[],
        msg.length,
        rinfo.address === this.gatewayHost && rinfo.port === this.gatewayPort,
      );
    });
    if (!ipv6 && this.broadcastHost.endsWith(".255")) socket.setBroadcast(true);
    this.client.start(this.now());
    this.timer = setInterval(() => this.client.tick(this.now()), this.config.tickInterval ?? 100);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.socket) this.socket.close();
    this.socket = undefined;
  }

  private now(): number {
    return Math.floor(performance.now() - this.epoch);
  }

  private sendTo(bytes: number[], length: number, host: string, port: number): void {
    if (!this.socket) return;
    const copy = Buffer.from((bytes as unknown as Uint8Array).subarray(0, length));
    this.socket.send(copy, port, host, () => this.sent());
    this.pending++;
  }

  /** A send completed (or failed): one fewer pending; tick() calls handler.ready() if it waits for this. */
  private sent(): void {
    this.pending--;
    if (this.socket) this.client.tick(this.now());
  }
}
