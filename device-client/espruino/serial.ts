import { MqttSnClient } from "../core/client";
import { encodeSlipFrame, SLIP_CRC_LENGTH, slipMaxFrameLength } from "../../protocol/index";
import { SlipReceiver } from "../core/slip-receiver";
import type { ClientHandler, ClientOptions } from "../core/types";

declare const E: { toString(data: Uint8Array): string };
declare function getTime(): number;

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
 * SEARCHGW goes the same way as everything else. The transport has no busy() (backpressure): Espruino's
 * write() waits while its transmit buffer is full, so nothing queues in the interpreter's memory.
 */
export class EspruinoSerialClient {
  readonly client: MqttSnClient;
  private readonly serial: EspruinoSerial;
  private readonly frame: Uint8Array;
  private readonly receiver: SlipReceiver;
  private readonly tickInterval: number;
  private timer: unknown;

  constructor(handler: ClientHandler, options: ClientOptions, config: EspruinoSerialConfig) {
    const size = config.bufferSize;
    this.serial = config.serial;
    this.tickInterval = config.tickInterval;
    this.timer = undefined;
    this.frame = new Uint8Array(slipMaxFrameLength(size));
    const inflight: Uint8Array[] = [];
    for (let i = 0; i < config.inflight; i++) inflight.push(new Uint8Array(size));
    const write = (bytes: number[], length: number) => {
      const n = encodeSlipFrame(bytes, length, this.frame as unknown as number[]);
      this.serial.write(E.toString(new Uint8Array(this.frame.buffer, 0, n)));
    };
    this.client = new MqttSnClient(
      { send: write, broadcast: write, selectGateway: () => undefined },
      handler,
      { tx: new Uint8Array(size) as unknown as number[], inflight: inflight as unknown as number[][], size: size },
      options,
    );
    this.receiver = new SlipReceiver(
      new Uint8Array(size + SLIP_CRC_LENGTH) as unknown as number[],
      size + SLIP_CRC_LENGTH,
      {
        frame: (buf, length) => this.client.receive(buf, length, true),
      },
    );
    this.serial.on("data", (data) => {
      this.client.tick(this.now());
      for (let i = 0; i < data.length; i++) this.receiver.push(data.charCodeAt(i));
    });
  }

  start(): void {
    this.client.start(this.now());
    this.timer = setInterval(() => this.client.tick(this.now()), this.tickInterval);
  }

  close(): void {
    clearInterval(this.timer as ReturnType<typeof setInterval>);
  }

  private now(): number {
    return Math.floor(getTime() * 1000);
  }
}
