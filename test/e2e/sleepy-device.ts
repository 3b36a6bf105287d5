import { createSocket, type Socket } from "node:dgram";
import {
  decode,
  encode,
  encodingLength,
  MsgType,
  ReturnCode,
  TopicIdType,
  type Bytes,
  type Message,
} from "../../protocol";

type Of<T extends MsgType> = Extract<Message, { type: T }>;

export interface Delivered {
  topic: string;
  payload: string;
  qos: number;
  msgId: number;
}

/**
 * A sleeping MQTT-SN device over UDP for end-to-end tests (§6.14): connects with CleanSession 0,
 * subscribes, sleeps with DISCONNECT(Duration), wakes with PINGREQ(ClientId) and answers what the gateway
 * sends in order, as a device does: REGACK to REGISTER, PUBACK / PUBREC / PUBCOMP to the QoS flows.
 * Records what it was given, whether a topic id was used before it was registered, duplicates, and
 * anything that arrived after PINGRESP.
 */
export class SleepyDevice {
  readonly delivered: Delivered[] = [];
  /** Messages that arrived after PINGRESP, within the settle time of the last wake. */
  afterPingResp: Message[] = [];
  /** The same message delivered again after the device had completed it (not a DUP retransmission). */
  duplicates = 0;
  registeredBeforeUse = true;
  private readonly topics = new Map<number, string>();
  private readonly qos2Pending = new Map<number, Delivered>();
  private readonly inbox: Message[] = [];
  private waiter: (() => void) | undefined;
  private nextMsgId = 1;

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
    private readonly port: number,
    readonly clientId: string,
  ) {
    socket.on("message", (frame) => {
      const m = decode(frame as unknown as Bytes, 0, frame.length);
      if (m.type === "error") throw new Error(`gateway sent an undecodable frame: ${m.code} ${frame.toString("hex")}`);
      this.inbox.push(m);
      const w = this.waiter;
      this.waiter = undefined;
      if (w !== undefined) w();
    });
  }

  static async open(gateway: string, clientId: string): Promise<SleepyDevice> {
    const colon = gateway.lastIndexOf(":");
    const host = gateway.slice(0, colon);
    const port = Number(gateway.slice(colon + 1));
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    return new SleepyDevice(socket, host === "0.0.0.0" ? "127.0.0.1" : host, port, clientId);
  }

  /** The same device behind a new address (NAT rebinding): a new socket, the same client id and topic ids. */
  async rebind(): Promise<SleepyDevice> {
    const moved = await SleepyDevice.open(`${this.host}:${this.port}`, this.clientId);
    for (const [id, name] of this.topics) moved.topics.set(id, name);
    moved.nextMsgId = this.nextMsgId;
    return moved;
  }

  send(message: Message): void {
    const buf = Buffer.alloc(encodingLength(message));
    encode(message, buf as unknown as Bytes, 0);
    this.socket.send(buf, this.port, this.host);
  }

  /** The next message from the gateway, or undefined after timeoutMs. */
  async next(timeoutMs: number): Promise<Message | undefined> {
    if (this.inbox.length > 0) return this.inbox.shift();
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(t);
        resolve();
      };
    });
    return this.inbox.shift();
  }

  async expect<T extends MsgType>(type: T, timeoutMs = 4000): Promise<Of<T>> {
    const m = await this.next(timeoutMs);
    if (m === undefined)
      throw new Error(`${this.clientId}: no message within ${timeoutMs} ms, expected type 0x${type.toString(16)}`);
    if (m.type !== type)
      throw new Error(`${this.clientId}: got ${JSON.stringify(m)}, expected type 0x${type.toString(16)}`);
    return m as Of<T>;
  }

  async connectPersistent(
    options: { keepAlive?: number; will?: { topic: string; message: string } } = {},
  ): Promise<void> {
    this.send({
      type: MsgType.Connect,
      will: options.will !== undefined,
      cleanSession: false,
      duration: options.keepAlive ?? 60,
      clientId: this.clientId,
    });
    if (options.will !== undefined) {
      await this.expect(MsgType.WillTopicReq);
      this.send({ type: MsgType.WillTopic, qos: 1, retain: false, willTopic: options.will.topic });
      await this.expect(MsgType.WillMsgReq);
      const data = Buffer.from(options.will.message);
      this.send({
        type: MsgType.WillMsg,
        willMsg: data as unknown as Bytes,
        willMsgOffset: 0,
        willMsgLength: data.length,
      });
    }
    const ack = await this.expect(MsgType.ConnAck);
    if (ack.returnCode !== ReturnCode.Accepted) throw new Error(`${this.clientId}: CONNACK ${ack.returnCode}`);
  }

  async subscribe(filter: string, qos: 0 | 1 | 2): Promise<void> {
    const msgId = this.nextMsgId++;
    this.send({
      type: MsgType.Subscribe,
      dup: false,
      qos,
      topicIdType: TopicIdType.Normal,
      msgId,
      topicName: filter,
      topicId: 0,
    });
    const ack = await this.expect(MsgType.SubAck);
    if (ack.msgId !== msgId || ack.returnCode !== ReturnCode.Accepted)
      throw new Error(`${this.clientId}: SUBACK ${JSON.stringify(ack)}`);
  }

  async goToSleep(duration: number): Promise<void> {
    this.send({ type: MsgType.Disconnect, duration });
    await this.expect(MsgType.Disconnect);
  }

  /** PINGREQ(ClientId), then answers everything until PINGRESP; returns what was delivered in this wake. */
  async wake(timeoutMs = 8000): Promise<Delivered[]> {
    const start = this.delivered.length;
    this.send({ type: MsgType.PingReq, clientId: this.clientId });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if (m === undefined)
        throw new Error(
          `${this.clientId}: no PINGRESP within ${timeoutMs} ms (delivered ${this.delivered.length - start})`,
        );
      if (m.type === MsgType.PingResp) break;
      this.answer(m);
    }
    this.afterPingResp = [];
    for (;;) {
      const m = await this.next(200);
      if (m === undefined) break;
      this.afterPingResp.push(m);
    }
    return this.delivered.slice(start);
  }

  /** CONNECT (CleanSession 0 unless asked) while asleep or after the session ended: CONNACK, then answers everything until the line is quiet. */
  async reconnect(quietMs = 600, cleanSession = false): Promise<Delivered[]> {
    const start = this.delivered.length;
    this.send({ type: MsgType.Connect, will: false, cleanSession, duration: 60, clientId: this.clientId });
    for (;;) {
      const m = await this.next(quietMs);
      if (m === undefined) break;
      if (m.type === MsgType.ConnAck) {
        if (m.returnCode !== ReturnCode.Accepted) throw new Error(`${this.clientId}: CONNACK ${m.returnCode}`);
        continue;
      }
      this.answer(m);
    }
    return this.delivered.slice(start);
  }

  private topicOf(m: Of<MsgType.Publish>): string {
    if (m.topicIdType === TopicIdType.Short) return String.fromCharCode(Math.floor(m.topicId / 256), m.topicId % 256);
    const name = this.topics.get(m.topicId);
    if (name === undefined) {
      this.registeredBeforeUse = false;
      return `?${m.topicId}`;
    }
    return name;
  }

  private answer(m: Message): void {
    switch (m.type) {
      case MsgType.Register:
        this.topics.set(m.topicId, m.topicName);
        this.send({ type: MsgType.RegAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted });
        return;
      case MsgType.Publish: {
        const payload = Buffer.from(
          (m.data as unknown as Uint8Array).subarray(m.dataOffset, m.dataOffset + m.dataLength),
        ).toString();
        const d: Delivered = { topic: this.topicOf(m), payload, qos: m.qos, msgId: m.msgId };
        const retransmission = m.qos === 2 && this.qos2Pending.has(m.msgId);
        if (!retransmission) {
          if (this.delivered.some((x) => x.payload === payload && x.topic === d.topic)) this.duplicates++;
          this.delivered.push(d);
        }
        if (m.qos === 1)
          this.send({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted });
        if (m.qos === 2) {
          this.qos2Pending.set(m.msgId, d);
          this.send({ type: MsgType.PubRec, msgId: m.msgId });
        }
        return;
      }
      case MsgType.PubRel:
        this.qos2Pending.delete(m.msgId);
        this.send({ type: MsgType.PubComp, msgId: m.msgId });
        return;
      default:
        throw new Error(`${this.clientId}: unexpected ${JSON.stringify(m)}`);
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
