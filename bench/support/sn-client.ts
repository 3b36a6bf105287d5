// A load-generating MQTT-SN client over UDP: one socket (its own source port) per device, CONNECT, REGISTER,
// SUBSCRIBE and PUBLISH from templates, PUBACK and REGACK answered for what the gateway sends.
import { createSocket, type Socket } from "node:dgram";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message, type Publish } from "../../protocol";

/** Payload of the benchmark's PUBLISH: 8 octets send time (µs), 8 octets sequence. */
export const PAYLOAD = 16;

export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

export function frame(m: Message): Buffer {
  const b = Buffer.allocUnsafe(encodingLength(m));
  encode(m, b as unknown as Bytes, 0);
  return b;
}

export class BenchClient {
  topicIds = new Map<string, number>();
  private waiting = new Map<string, (m: Message) => void>();
  private templates = new Map<string, Buffer>();
  acked = 0;
  onPubAck: (() => void) | undefined;
  /** A PUBLISH from the gateway (QoS 1 ones are acknowledged before this runs). */
  onPublish: ((m: Publish) => void) | undefined;

  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on("message", (buf) => this.received(buf));
  }

  static async open(port: number, sendBufferSize = 0): Promise<BenchClient> {
    const s = createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
    // A connected socket sends without an address lookup per datagram.
    await new Promise<void>((r) => s.connect(port, "127.0.0.1", () => r()));
    if (sendBufferSize > 0) s.setSendBufferSize(sendBufferSize);
    return new BenchClient(s, port);
  }

  private received(buf: Buffer): void {
    const m = decode(buf as unknown as Bytes, 0, buf.length);
    if (m.type === "error") return;
    if (m.type === MsgType.PubAck) {
      this.acked++;
      if (this.onPubAck !== undefined) this.onPubAck();
      return;
    }
    if (m.type === MsgType.Publish) {
      // §6.7: the receiver of a QoS 1 PUBLISH answers PUBACK with its topic id and msgId.
      if (m.qos === 1) this.send(frame({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 }));
      if (this.onPublish !== undefined) this.onPublish(m);
      return;
    }
    if (m.type === MsgType.Register) {
      // §6.10: a topic name the gateway registers before it publishes to it.
      this.send(frame({ type: MsgType.RegAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 }));
      return;
    }
    const key =
      m.type === MsgType.RegAck
        ? `regack:${m.msgId}`
        : m.type === MsgType.SubAck
          ? `suback:${m.msgId}`
          : `type:${m.type}`;
    const w = this.waiting.get(key);
    if (w !== undefined) {
      this.waiting.delete(key);
      w(m);
    }
  }

  send(b: Buffer): void {
    this.socket.send(b);
  }

  wait(key: string, timeoutMs = 10_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`timeout waiting for ${key}`));
      }, timeoutMs);
      this.waiting.set(key, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }

  async connect(clientId: string, duration = 600, timeoutMs = 10_000): Promise<void> {
    const p = this.wait(`type:${MsgType.ConnAck}`, timeoutMs);
    this.send(frame({ type: MsgType.Connect, will: false, cleanSession: true, duration, clientId }));
    const ack = (await p) as { returnCode: number };
    if (ack.returnCode !== 0) throw new Error(`CONNACK ${ack.returnCode} for ${clientId}`);
  }

  /** DISCONNECT (§6.11), answered with DISCONNECT: the gateway ends the session. */
  async disconnect(timeoutMs = 10_000): Promise<void> {
    const p = this.wait(`type:${MsgType.Disconnect}`, timeoutMs);
    this.send(frame({ type: MsgType.Disconnect, duration: undefined }));
    await p;
  }

  async register(name: string, msgId: number): Promise<void> {
    const p = this.wait(`regack:${msgId}`);
    this.send(frame({ type: MsgType.Register, topicId: 0, msgId, topicName: name }));
    const ack = (await p) as { topicId: number };
    this.topicIds.set(name, ack.topicId);
  }

  /** SUBSCRIBE to a topic name (§6.9); resolves with the granted QoS. */
  async subscribe(topicName: string, qos: 0 | 1 | 2, msgId: number, timeoutMs = 10_000): Promise<number> {
    const p = this.wait(`suback:${msgId}`, timeoutMs);
    this.send(frame({ type: MsgType.Subscribe, dup: false, qos, topicIdType: 0, msgId, topicName, topicId: 0 }));
    const ack = (await p) as { returnCode: number; qos: number; topicId: number };
    if (ack.returnCode !== 0) throw new Error(`SUBACK ${ack.returnCode} for ${topicName}`);
    this.topicIds.set(topicName, ack.topicId);
    return ack.qos;
  }

  /** A PUBLISH from a per-topic template: copy, then patch msgId, send time and sequence. */
  publishFrame(topic: string, qos: 0 | 1, msgId: number, seq: number): Buffer {
    let t = this.templates.get(topic + qos);
    if (t === undefined) {
      const data = Buffer.alloc(PAYLOAD);
      t = frame({
        type: MsgType.Publish,
        dup: false,
        qos,
        retain: false,
        topicIdType: 0,
        topicId: this.topicIds.get(topic) as number,
        msgId: 0,
        data: data as unknown as Bytes,
        dataOffset: 0,
        dataLength: PAYLOAD,
      });
      this.templates.set(topic + qos, t);
    }
    const b = Buffer.from(t);
    b.writeUInt16BE(msgId, 5);
    b.writeDoubleBE(nowUs(), 7);
    b.writeDoubleBE(seq, 15);
    return b;
  }

  close(): void {
    this.socket.close();
  }
}
