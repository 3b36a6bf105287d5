import type { MqttSnClient } from "../core/client";
import type { ClientHandler, ClientOptions, Transport } from "../core/types";
import { ProfileClient } from "./profile";

/** Espruino's built-ins this adapter uses (https://www.espruino.com/Reference). */
declare const E: { toString(data: Uint8Array): string; toArrayBuffer(data: string): ArrayBuffer };
declare function getTime(): number;

/** The options object, read key by key (the casts leave no code behind: no alias of it in the bundle). */
type Keyed = Record<string, unknown>;

export interface EspruinoRinfo {
  address: string;
  port: number;
}

/**
 * The parts of Espruino's dgram socket used here: datagrams travel as strings. send() only appends the
 * datagram to the socket's send queue (a string in RAM), which the interpreter's idle loop empties one
 * datagram at a time; "drain" is emitted once the queue is empty (Espruino's libs/network/socketserver.c).
 */
export interface EspruinoSocket {
  on(event: "message", listener: (msg: string, rinfo: EspruinoRinfo) => void): void;
  on(event: "drain", listener: () => void): void;
  bind(port: number): void;
  send(msg: string, port: number, address: string): void;
  close(): void;
}

export interface EspruinoDgram {
  createSocket(type: "udp4"): EspruinoSocket;
}

export interface EspruinoUdpConfig {
  /** require("dgram"), handed in so that this module names no module system. */
  dgram: EspruinoDgram;
  host: string;
  port: number;
  broadcastHost: string;
  /** Largest message the client sends, in octets. */
  bufferSize: number;
  /** Exchanges open at once (at least 2). */
  inflight: number;
  /** Milliseconds between tick() calls. */
  tickInterval: number;
  /** Datagrams in the socket's send queue at which publish() returns Busy (-2); default (or 0) 4. */
  maxQueued?: number;
}

/**
 * The Espruino adapter (ESP32, ESP8266 with Wi-Fi): one dgram socket, the client's buffers as
 * Uint8Arrays (a Uint8Array costs Espruino a few variables, an Array one per element). dgram takes
 * and gives strings: a datagram out is E.toString of a view on the buffer; a datagram in is read
 * through a Uint8Array on E.toArrayBuffer of its string, which lives as long as the call, so the
 * adapter keeps no receive buffer. The adapter is the client's Transport itself: on Espruino every
 * function costs RAM, so there are no closures: the socket's listeners and the timer are bound methods.
 *
 * Time is counted in milliseconds from start(): small whole numbers, which Espruino keeps in
 * the variable that names them, where milliseconds since 1970 would each take one more.
 *
 * Backpressure: the adapter counts the datagrams it has queued since the socket last emitted "drain";
 * at maxQueued the transport is busy, so a publishing loop that waits for handler.ready() keeps the
 * queue (and the memory it holds) within the bound instead of queueing every datagram of a burst. A
 * drain also calls tick(), which calls ready() at once.
 */
export class EspruinoUdpClient implements Transport {
  readonly client: MqttSnClient;
  /** send(), which takes the radius as its sign to broadcast (a function fewer: see below). */
  declare broadcast: (bytes: number[], length: number, radius: number) => void;
  private readonly socket: EspruinoSocket;
  private readonly config: EspruinoUdpConfig;
  private gatewayHost: string;
  private gatewayPort: number;
  // Set by the first datagram, by start(): a field set in the constructor costs a board a variable.
  /** The sender of the last datagram (its address and port: the whole object would cost more). */
  private senderHost!: string;
  private senderPort!: number;
  private timer: unknown;
  /** getTime() at start(), in seconds. */
  private epoch!: number;
  /** Datagrams handed to the socket since its last "drain". */
  private queued: number;

  constructor(handler: ClientHandler, options: ClientOptions, config: EspruinoUdpConfig) {
    const size = config.bufferSize;
    this.config = config;
    this.gatewayHost = config.host;
    this.gatewayPort = config.port;
    this.queued = 0;
    // clientOptions (options.ts) written out here: a function fewer in the library.
    for (const key in options) {
      if (key.length > 4) {
        (options as unknown as Keyed)[(key[key.length - 1] as string) + key.length] = (options as unknown as Keyed)[
          key
        ];
        delete (options as unknown as Keyed)[key];
      }
    }
    const inflight: Uint8Array[] = [];
    for (let i = 0; i < config.inflight; i++) inflight[i] = new Uint8Array(size);
    this.socket = config.dgram.createSocket("udp4");
    this.client = new ProfileClient(
      this,
      handler,
      { tx: new Uint8Array(size) as unknown as number[], inflight: inflight as unknown as number[][], size: size },
      options,
    );
  }

  start(): void {
    // One bound method for the socket and the timer, not a closure (which would keep start()'s scope
    // alive with it).
    const listener = this.datagram.bind(this);
    this.socket.on("message", listener);
    this.socket.on("drain", listener);
    this.socket.bind(0);
    this.epoch = getTime();
    this.client.start(0);
    // Espruino's setInterval hands its arguments after the interval to the function: rinfo 0 marks the timer.
    this.timer = setInterval(listener, this.config.tickInterval, "", 0);
  }

  close(): void {
    clearInterval(this.timer as ReturnType<typeof setInterval>);
    this.socket.close();
  }

  /**
   * One function for the socket and the timer (each function costs a board RAM): a datagram (msg and
   * its sender), the socket's "drain" (no sender: its send queue is empty) or the timer (rinfo 0).
   * Each advances the client's time (tick() with the milliseconds since start()).
   */
  datagram(msg?: string, rinfo?: EspruinoRinfo | 0): void {
    if (rinfo === undefined) {
      this.queued = 0;
    }
    this.client.tick(Math.floor((getTime() - this.epoch) * 1000));
    if (rinfo) {
      this.senderHost = rinfo.address;
      this.senderPort = rinfo.port;
      this.client.receive(
        new Uint8Array(E.toArrayBuffer(msg as string)) as unknown as number[],
        (msg as string).length,
        this.senderHost === this.gatewayHost && this.senderPort === this.gatewayPort,
      );
    }
  }

  /**
   * Queues one datagram: to the gateway, or with a radius (as broadcast, which is this same function)
   * to the broadcast address. Counted once send() returned (it throws when the board is offline).
   */
  send(bytes: number[], length: number, radius?: number): void {
    const c = this.config;
    const broadcast = (radius as number) >= 0;
    this.socket.send(
      E.toString((bytes as unknown as Uint8Array).subarray(0, length)),
      broadcast ? c.port : this.gatewayPort,
      broadcast ? c.broadcastHost : this.gatewayHost,
    );
    this.queued++;
  }

  selectGateway(gwId: number): void {
    this.gatewayHost = gwId < 0 ? this.config.host : this.senderHost;
    this.gatewayPort = gwId < 0 ? this.config.port : this.senderPort;
  }

  busy(): boolean {
    return this.queued >= (this.config.maxQueued || 4);
  }
}

EspruinoUdpClient.prototype.broadcast = EspruinoUdpClient.prototype.send;
