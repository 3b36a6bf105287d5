import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../../protocol";
import type { Of } from "../support/sn-client";

/**
 * A small MQTT-SN client that talks through any frame pipe (a serial pty end, a forwarder's node):
 * sendFrame puts one encoded message on the way to the gateway, deliver() hands it each decoded answer.
 */
export class FrameClient {
  private readonly received: Message[] = [];
  private waiters: Array<() => void> = [];
  private nextId = 1;

  constructor(
    readonly label: string,
    private readonly sendFrame: (frame: Uint8Array) => void,
  ) {}

  deliver(message: Message): void {
    this.received.push(message);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(message: Message): void {
    const frame = new Uint8Array(encodingLength(message));
    encode(message, frame as unknown as Bytes, 0);
    this.sendFrame(frame);
  }

  async expect<T extends MsgType>(type: T, timeoutMs = 4000): Promise<Of<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(i, 1)[0] as Of<T>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no message of type 0x${type.toString(16)} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async connect(clientId: string): Promise<number> {
    this.send({ type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId });
    return (await this.expect(MsgType.ConnAck)).returnCode;
  }

  async register(topicName: string): Promise<number> {
    const msgId = this.nextId++;
    this.send({ type: MsgType.Register, topicId: 0, msgId, topicName });
    const ack = await this.expect(MsgType.RegAck);
    if (ack.msgId !== msgId || ack.returnCode !== 0) throw new Error(`${this.label}: REGACK ${JSON.stringify(ack)}`);
    return ack.topicId;
  }

  async subscribe(topicName: string, qos: 0 | 1 | 2): Promise<void> {
    const msgId = this.nextId++;
    this.send({ type: MsgType.Subscribe, dup: false, qos, topicIdType: 0, msgId, topicName, topicId: 0 });
    const ack = await this.expect(MsgType.SubAck);
    if (ack.msgId !== msgId || ack.returnCode !== 0) throw new Error(`${this.label}: SUBACK ${JSON.stringify(ack)}`);
  }

  async publishQos1(topicId: number, text: string): Promise<void> {
    const data = Array.from(Buffer.from(text));
    const msgId = this.nextId++;
    this.send({
      type: MsgType.Publish,
      dup: false,
      qos: 1,
      retain: false,
      topicIdType: 0,
      topicId,
      msgId,
      data,
      dataOffset: 0,
      dataLength: data.length,
    });
    const ack = await this.expect(MsgType.PubAck);
    if (ack.msgId !== msgId || ack.returnCode !== 0) throw new Error(`${this.label}: PUBACK ${JSON.stringify(ack)}`);
  }
}

/** Decodes what a device received from the gateway; a frame that does not decode is an error of the gateway. */
export function decodeFrame(frame: Uint8Array): Message {
  const m = decode(frame as unknown as Bytes, 0, frame.length);
  if (m.type === "error")
    throw new Error(`gateway sent an undecodable frame: ${m.code} ${Buffer.from(frame).toString("hex")}`);
  return m;
}

/** A forwarder (§5.5) on one line: each node's messages go out wrapped with its node id; answers are routed by node id. */
export class Forwarder {
  private readonly nodes = new Map<string, FrameClient>();
  /** Frames the forwarder got that were not Encapsulated, or for an unknown node. */
  readonly stray: Message[] = [];

  constructor(private readonly sendFrame: (frame: Uint8Array) => void) {}

  node(wirelessNodeId: number[], label: string): FrameClient {
    const client = new FrameClient(label, (inner) => {
      const message = decodeFrame(inner);
      const wrapped: Message = { type: MsgType.Encapsulated, radius: 0, wirelessNodeId, message };
      const frame = new Uint8Array(encodingLength(wrapped));
      encode(wrapped, frame as unknown as Bytes, 0);
      this.sendFrame(frame);
    });
    this.nodes.set(wirelessNodeId.join(","), client);
    return client;
  }

  receive(frame: Uint8Array): void {
    const m = decodeFrame(frame);
    const node = m.type === MsgType.Encapsulated ? this.nodes.get(Array.from(m.wirelessNodeId).join(",")) : undefined;
    if (m.type === MsgType.Encapsulated && node) node.deliver(m.message);
    else this.stray.push(m);
  }
}
