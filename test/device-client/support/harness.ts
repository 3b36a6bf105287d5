import { decode, encode, type Message } from "../../../protocol/index";
import { MqttSnClient } from "../../../device-client/core/client";
import type { SensorClient } from "../../../device-client/core/sensor";
import { defaultOptions } from "../../../device-client/core/options";
import type { ClientBuffers, ClientHandler, ClientOptions, Transport } from "../../../device-client/core/types";

/** MqttSnClient (the default) or SensorClient, to run the sensor profile's core. */
export type ClientClass<C> = new (t: Transport, h: ClientHandler, b: ClientBuffers, o: ClientOptions) => C;

export interface Sent {
  to: "gateway" | "broadcast";
  message: Message;
  /** The octets the client handed to the transport: its buffer up to the length it gave. */
  octets: number[];
}

/**
 * The core wired to a recording transport and handler, with time driven by hand. The transport
 * decodes every datagram the client sends, so assertions read messages instead of bytes.
 */
export class Harness<C extends SensorClient = MqttSnClient> {
  readonly sent: Sent[] = [];
  readonly events: string[] = [];
  readonly client: C;
  now = 0;
  selected: number[] = [];
  /** What the transport's busy() answers. */
  busy = false;

  /** size: octets of each of the client's buffers (tx and every in-flight slot). */
  constructor(change?: (o: ClientOptions) => void, slots = 4, size = 128, client?: ClientClass<C>) {
    const options = defaultOptions("dev-1", () => 0.5);
    if (change) change(options);
    const record = (to: Sent["to"]) => (bytes: number[], length: number) => {
      if (length > bytes.length) throw new Error(`client sent ${length} octets from a ${bytes.length}-octet buffer`);
      // Any client id length: the sizes are what is under test here, not the spec's 23-octet limit.
      const m = decode(bytes, 0, length, { maxClientIdLength: 65535 });
      if (m.type === "error") throw new Error(`client sent a malformed datagram: ${m.code}`);
      this.sent.push({ to, message: structuredClone(m) as Message, octets: Array.from(bytes).slice(0, length) });
    };
    const inflight: Uint8Array[] = [];
    for (let i = 0; i < slots; i++) inflight.push(new Uint8Array(size));
    const Client = client ?? (MqttSnClient as unknown as ClientClass<C>);
    this.client = new Client(
      {
        send: record("gateway"),
        broadcast: record("broadcast"),
        selectGateway: (gwId) => this.selected.push(gwId),
        busy: () => this.busy,
      },
      {
        stateChanged: (s) => this.events.push(`state ${s}`),
        message: (name, type, id, data, offset, length, qos, retain) =>
          this.events.push(
            `message ${name}|${type}|${id}|${Buffer.from((data as unknown as Uint8Array).subarray(offset, offset + length)).toString()}|${qos}|${retain}`,
          ),
        done: (type, msgId, rc, topicId) => this.events.push(`done ${type} ${msgId} ${rc} ${topicId}`),
        ready: () => this.events.push("ready"),
      },
      { tx: new Uint8Array(size) as unknown as number[], inflight: inflight as unknown as number[][], size },
      options,
    );
  }

  /** Messages sent since the last call, as [type, message]. */
  take(): Message[] {
    return this.sent.splice(0).map((s) => s.message);
  }

  takeEvents(): string[] {
    return this.events.splice(0);
  }

  advance(ms: number): void {
    this.now += ms;
    this.client.tick(this.now);
  }

  /** Delivers one message from the gateway. */
  fromGateway(message: Message, fromGateway = true): void {
    const buf = new Uint8Array(300);
    const n = encode(message, buf as unknown as number[], 0);
    this.client.receive(buf as unknown as number[], n, fromGateway);
  }

  /** start() then the CONNACK: an Active client with nothing recorded. */
  connect(): void {
    this.client.start(this.now);
    this.fromGateway({ type: 0x05, returnCode: 0 });
    this.take();
    this.takeEvents();
  }
}

export function bytes(s: string): number[] {
  return Array.from(Buffer.from(s));
}
