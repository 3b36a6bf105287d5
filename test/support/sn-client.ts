import { createSocket, type Socket } from "node:dgram";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../../protocol";

/** The message shape(s) whose type field admits T (PUBREC, PUBREL, PUBCOMP share one shape). */
export type Of<T extends MsgType> = Message extends infer M
  ? M extends { type: infer U }
    ? T extends U
      ? M
      : never
    : never
  : never;

/**
 * A small MQTT-SN client over UDP for tests: sends messages, and waits for the next received message
 * matching a type (earlier ones of other types stay queued). Every received frame is decoded with the
 * project's codec; a frame that does not decode fails the wait.
 */
export class SnClient {
  private readonly socket: Socket;
  private readonly received: Message[] = [];
  private waiters: Array<() => void> = [];
  readonly frames: Uint8Array[] = [];
  private nextId = 1;

  private constructor(
    socket: Socket,
    readonly host: string,
    readonly port: number,
  ) {
    this.socket = socket;
    socket.on("message", (msg) => {
      this.frames.push(msg);
      const m = decode(msg as unknown as Bytes, 0, msg.length);
      if (m.type === "error") throw new Error(`gateway sent an undecodable frame: ${m.code} ${msg.toString("hex")}`);
      this.received.push(m);
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  /** A client socket on 127.0.0.1 (or ::1) talking to the gateway at host:port. */
  static async open(gateway: string): Promise<SnClient> {
    const ipv6 = gateway.startsWith("[");
    const colon = gateway.lastIndexOf(":");
    const host = ipv6 ? gateway.slice(1, gateway.indexOf("]")) : gateway.slice(0, colon);
    const port = Number(gateway.slice(colon + 1));
    const socket = createSocket(ipv6 ? "udp6" : "udp4");
    await new Promise<void>((resolve) => socket.bind(0, ipv6 ? "::1" : "127.0.0.1", () => resolve()));
    return new SnClient(socket, host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host, port);
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  msgId(): number {
    return this.nextId++;
  }

  send(message: Message): void {
    const buf = Buffer.alloc(encodingLength(message));
    encode(message, buf as unknown as Bytes, 0);
    this.sendRaw(buf);
  }

  sendRaw(frame: Uint8Array): void {
    this.socket.send(frame, this.port, this.host);
  }

  /** Waits for the next message of this type (removing it from the queue). */
  async expect<T extends MsgType>(type: T, timeoutMs = 3000): Promise<Of<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((m) => m.type === type);
      if (i >= 0) return this.received.splice(i, 1)[0] as Of<T>;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no message of type 0x${type.toString(16)} within ${timeoutMs} ms; queued: ${this.received.map((m) => m.type.toString(16)).join(",")}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Asserts nothing of this type arrives within ms. */
  async expectNone(type: MsgType, ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const m = this.received.find((x) => x.type === type);
    if (m !== undefined) throw new Error(`unexpected message of type 0x${type.toString(16)}: ${JSON.stringify(m)}`);
  }

  /** All queued messages (not yet taken by expect). */
  pending(): Message[] {
    return [...this.received];
  }

  clear(): void {
    this.received.length = 0;
  }

  async connect(
    clientId: string,
    options: {
      duration?: number;
      cleanSession?: boolean;
      will?: { topic: string; message: string; qos?: 0 | 1 | 2; retain?: boolean };
    } = {},
  ): Promise<number> {
    this.send({
      type: MsgType.Connect,
      will: options.will !== undefined,
      cleanSession: options.cleanSession ?? true,
      duration: options.duration ?? 60,
      clientId,
    });
    if (options.will !== undefined) {
      await this.expect(MsgType.WillTopicReq);
      this.send({
        type: MsgType.WillTopic,
        qos: options.will.qos ?? 0,
        retain: options.will.retain ?? false,
        willTopic: options.will.topic,
      });
      await this.expect(MsgType.WillMsgReq);
      const data = Buffer.from(options.will.message);
      this.send({
        type: MsgType.WillMsg,
        willMsg: data as unknown as Bytes,
        willMsgOffset: 0,
        willMsgLength: data.length,
      });
    }
    return (await this.expect(MsgType.ConnAck)).returnCode;
  }

  async register(topicName: string): Promise<Of<MsgType.RegAck>> {
    const msgId = this.msgId();
    this.send({ type: MsgType.Register, topicId: 0, msgId, topicName });
    const ack = await this.expect(MsgType.RegAck);
    if (ack.msgId !== msgId) throw new Error(`REGACK for ${ack.msgId}, expected ${msgId}`);
    return ack;
  }

  async subscribe(
    topic: string | { predefined: number } | { short: string },
    qos: 0 | 1 | 2 = 0,
  ): Promise<Of<MsgType.SubAck>> {
    const msgId = this.msgId();
    if (typeof topic === "string")
      this.send({ type: MsgType.Subscribe, dup: false, qos, topicIdType: 0, msgId, topicName: topic, topicId: 0 });
    else if ("predefined" in topic)
      this.send({
        type: MsgType.Subscribe,
        dup: false,
        qos,
        topicIdType: 1,
        msgId,
        topicName: "",
        topicId: topic.predefined,
      });
    else
      this.send({
        type: MsgType.Subscribe,
        dup: false,
        qos,
        topicIdType: 2,
        msgId,
        topicName: "",
        topicId: topic.short.charCodeAt(0) * 256 + topic.short.charCodeAt(1),
      });
    const ack = await this.expect(MsgType.SubAck);
    if (ack.msgId !== msgId) throw new Error(`SUBACK for ${ack.msgId}, expected ${msgId}`);
    return ack;
  }

  publish(
    topicId: number,
    payload: string | Uint8Array,
    options: { qos?: -1 | 0 | 1 | 2; topicIdType?: 0 | 1 | 2; msgId?: number; dup?: boolean; retain?: boolean } = {},
  ): number {
    const data = typeof payload === "string" ? Buffer.from(payload) : payload;
    const qos = options.qos ?? 0;
    const msgId = options.msgId ?? (qos > 0 ? this.msgId() : 0);
    this.send({
      type: MsgType.Publish,
      dup: options.dup ?? false,
      qos,
      retain: options.retain ?? false,
      topicIdType: options.topicIdType ?? 0,
      topicId,
      msgId,
      data: data as unknown as Bytes,
      dataOffset: 0,
      dataLength: data.length,
    });
    return msgId;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** The payload of a received PUBLISH as text. */
export function payloadText(m: Of<MsgType.Publish>): string {
  return Buffer.from((m.data as unknown as Uint8Array).subarray(m.dataOffset, m.dataOffset + m.dataLength)).toString();
}
