import { defaultOptions } from "../../device-client/core/options";
import { ClientState } from "../../device-client/core/types";
import { NodeUdpClient } from "../../device-client/node/udp";
import { MsgType, type Bytes } from "../../protocol";
import { Tally } from "./tally";

export interface FaultClientOptions {
  clientId: string;
  /** Where the device sends: the gateway, or a proxy in front of it. */
  port: number;
  /** Subscribed (QoS 1) whenever the client is Active and has no accepted subscription yet. */
  subscribe: string;
  /** Topic name the device publishes on. */
  publishTopic: string;
  /** T_RETRY of the device, ms. */
  retryMs: number;
  /** N_RETRY of the device. */
  maxRetries: number;
  /** Wait after losing the gateway before CONNECT again, ms. */
  reconnectDelayMs: number;
}

/**
 * The project's device client (the Node build: device-client/node/udp.ts over the portable core) run as
 * an application that must not lose a message: CleanSession 0, publishes a list of payloads at QoS 1
 * and publishes again whatever the gateway refused (PUBACK with a return code) or the client gave up
 * (done with -1, gateway lost); records every incoming payload. A payload counts as acknowledged once
 * the gateway's PUBACK accepted it.
 */
export class FaultClient {
  readonly udp: NodeUdpClient;
  readonly received = new Tally();
  readonly acknowledged = new Set<string>();
  /** Every state the client went through, in order. */
  readonly states: ClientState[] = [];
  /** When the last incoming PUBLISH was handed over (Date.now()). */
  lastArrival = 0;
  /** PUBLISHes refused or given up and sent again. */
  republished = 0;
  private readonly queue: string[] = [];
  private readonly inFlight = new Map<number, string>();
  private subscribed = false;
  private subscribeId = -1;
  private pumpScheduled = false;

  constructor(private readonly o: FaultClientOptions) {
    const options = defaultOptions(o.clientId, Math.random);
    options.cleanSession = false;
    options.keepAlive = 30;
    options.retryInterval = o.retryMs;
    options.maxRetries = o.maxRetries;
    options.reconnectDelay = o.reconnectDelayMs;
    this.udp = new NodeUdpClient(
      {
        stateChanged: (s) => {
          this.states.push(s);
          this.schedule();
        },
        message: (_name, _type, _id, data, offset, length) => {
          const bytes = (data as unknown as Uint8Array).subarray(offset, offset + length);
          this.received.add(Buffer.from(bytes).toString());
          this.lastArrival = Date.now();
        },
        done: (type, msgId, rc) => this.done(type, msgId, rc),
      },
      options,
      { host: "127.0.0.1", port: o.port, tickInterval: 10, inflight: 4 },
    );
  }

  get state(): ClientState {
    return this.udp.client.state;
  }

  get isSubscribed(): boolean {
    return this.subscribed;
  }

  /** Payloads handed over and not yet acknowledged. */
  get outstanding(): number {
    return this.queue.length + this.inFlight.size;
  }

  start(): Promise<void> {
    return this.udp.start();
  }

  publish(payloads: string[]): void {
    this.queue.push(...payloads);
    this.schedule();
  }

  close(): void {
    this.udp.close();
  }

  private done(type: number, msgId: number, rc: number): void {
    if (type === MsgType.Subscribe && msgId === this.subscribeId) {
      this.subscribeId = -1;
      this.subscribed = rc === 0;
    } else if (type === MsgType.Publish) {
      const payload = this.inFlight.get(msgId);
      if (payload === undefined) return;
      this.inFlight.delete(msgId);
      if (rc === 0) this.acknowledged.add(payload);
      else {
        this.republished++;
        this.queue.unshift(payload);
      }
    }
    this.schedule();
  }

  /** The handler runs inside the client's receive() and tick(): new requests go out after it returned. */
  private schedule(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const c = this.udp.client;
    if (c.state !== ClientState.Active) return;
    if (!this.subscribed && this.subscribeId < 0) {
      const id = c.subscribe(this.o.subscribe, 1);
      if (id > 0) this.subscribeId = id;
    }
    while (this.queue.length > 0) {
      const payload = this.queue[0]!;
      const bytes = Array.from(Buffer.from(payload)) as Bytes;
      const id = c.publish(this.o.publishTopic, bytes, 0, bytes.length, 1, false);
      if (id < 0) return;
      this.queue.shift();
      this.inFlight.set(id, payload);
    }
  }
}
