import type { MqttSnClient } from "../core/client";
import { encodeSlipFrame, SLIP_CRC_LENGTH, slipMaxFrameLength } from "../../protocol/slip";
import { SlipReceiver, type FrameSink } from "../core/slip-receiver";
import type { ClientHandler, ClientOptions, Transport } from "../core/types";
import { clientOptions } from "./options";
import { ProfileClient } from "./profile";
import { now } from "./time";

declare const E: { toString(data: Uint8Array): string };

/** Serial1, Serial2, Bluetooth (Nordic UART) …: octets travel as strings. */
export interface EspruinoSerial {
  on(event: "data", listener: (data: string) => void): void;
  write(data: string): void;
}

export interface EspruinoSerialConfig {
  /** A port already set up (Serial1.setup(115200, {rx, tx})), or Bluetooth. */
  serial: EspruinoSerial;
  /** Largest message the client sends, in octets. */
  bufferSize: number;
  /** Exchanges open at once (at least 2). */
  inflight: number;
  /** Milliseconds between tick() calls. */
  tickInterval: number;
}

/**
 * The Espruino adapter for a UART or Bluetooth LE UART to a gateway serial port, with the gateway's
 * default framing: SLIP + CRC-16 (hardware/serial-framing.md). The line reaches one gateway, so
 * SEARCHGW goes the same way as everything else. The adapter is the client's Transport and the SLIP
 * receiver's FrameSink itself. It has no busy() (backpressure): Espruino's write() waits while its
 * transmit buffer is full, so nothing queues in the interpreter's memory.
 */
export class EspruinoSerialClient implements Transport, FrameSink {
  readonly client: MqttSnClient;
  private readonly config: EspruinoSerialConfig;
  /** The SLIP frame being sent. */
  private readonly out: Uint8Array;
  private readonly receiver: SlipReceiver;
  private timer: unknown;

  constructor(handler: ClientHandler, options: ClientOptions, config: EspruinoSerialConfig) {
    const size = config.bufferSize;
    this.config = config;
    this.timer = undefined;
    this.out = new Uint8Array(slipMaxFrameLength(size));
    const inflight: Uint8Array[] = [];
    for (let i = 0; i < config.inflight; i++) inflight[i] = new Uint8Array(size);
    this.client = new ProfileClient(
      this,
      handler,
      { tx: new Uint8Array(size) as unknown as number[], inflight: inflight as unknown as number[][], size: size },
      clientOptions(options as unknown as Record<string, unknown>),
    );
    this.receiver = new SlipReceiver(
      new Uint8Array(size + SLIP_CRC_LENGTH) as unknown as number[],
      size + SLIP_CRC_LENGTH,
      this,
    );
    config.serial.on("data", (data) => {
      this.client.tick(now());
      for (let i = 0; i < data.length; i++) this.receiver.push(data.charCodeAt(i));
    });
  }

  start(): void {
    this.client.start(now());
    this.timer = setInterval(() => this.client.tick(now()), this.config.tickInterval);
  }

  close(): void {
    clearInterval(this.timer as ReturnType<typeof setInterval>);
  }

  send(bytes: number[], length: number): void {
    const n = encodeSlipFrame(bytes, length, this.out as unknown as number[]);
    this.config.serial.write(E.toString(new Uint8Array(this.out.buffer, 0, n)));
  }

  broadcast(bytes: number[], length: number): void {
    this.send(bytes, length);
  }

  selectGateway(): void {}

  frame(buf: number[], length: number): void {
    this.client.receive(buf, length, true);
  }
}
