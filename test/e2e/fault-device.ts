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
import { Tally } from "./tally";

type Of<T extends MsgType> = Extract<Message, { type: T }>;

/**
 * An MQTT-SN device over UDP for fault tests, written against the wire so that the test decides when
 * it acknowledges: every PUBLISH from the gateway is recorded on arrival and answered after ackDelayMs
 * (PUBACK for QoS 1, PUBREC then PUBCOMP for QoS 2, §6.7); REGISTER is answered at once with REGACK
 * (§6.10). onAcked runs once a PUBACK has been handed to the kernel, so a test can act "just after an
 * acknowledgement". Requests (CONNECT, SUBSCRIBE, PINGREQ, DISCONNECT) wait for their answer.
 */
export class FaultDevice {
  /** Payloads received, repeats included (a DUP retransmission or a second delivery after a restart). */
  readonly received = new Tally();
  /** PUBACKs sent. */
  acked = 0;
  /** DISCONNECTs the gateway sent on its own (§6.2: it ended the session). */
  gatewayDisconnects = 0;
  ackDelayMs = 0;
  onAcked: ((acked: number, payload: string) => void) | undefined;
  /** When the last PUBLISH arrived (Date.now()). */
  lastArrival = 0;
  private readonly pendingAcks = new Set<NodeJS.Timeout>();
  private waiter: { type: MsgType; resolve: (m: Message) => void; reject: (e: Error) => void } | undefined;
  private nextMsgId = 1;

  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
    readonly clientId: string,
  ) {
    socket.on("message", (frame) => {
      const m = decode(frame as unknown as Bytes, 0, frame.length);
      if (m.type === "error") throw new Error(`gateway sent an undecodable frame: ${m.code} ${frame.toString("hex")}`);
      this.onMessage(m);
    });
  }

  static async open(gatewayPort: number, clientId: string): Promise<FaultDevice> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    return new FaultDevice(socket, gatewayPort, clientId);
  }

  send(message: Message, sent?: () => void): void {
    const buf = Buffer.alloc(encodingLength(message));
    encode(message, buf as unknown as Bytes, 0);
    this.socket.send(buf, this.port, "127.0.0.1", sent);
  }

  /** Sends message and waits for the first message of type answer; throws after timeoutMs. */
  request<T extends MsgType>(message: Message, answer: T, timeoutMs = 15_000): Promise<Of<T>> {
    if (this.waiter !== undefined) throw new Error(`${this.clientId}: a request is already waiting`);
    return new Promise<Of<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`${this.clientId}: no answer of type 0x${answer.toString(16)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        type: answer,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Of<T>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.send(message);
    });
  }

  /** CONNECT with CleanSession 0 (unless asked) and no will; throws unless CONNACK accepts. */
  async connect(cleanSession = false, keepAlive = 60): Promise<void> {
    const ack = await this.request(
      { type: MsgType.Connect, will: false, cleanSession, duration: keepAlive, clientId: this.clientId },
      MsgType.ConnAck,
    );
    if (ack.returnCode !== ReturnCode.Accepted) throw new Error(`${this.clientId}: CONNACK ${ack.returnCode}`);
  }

  async subscribe(filter: string, qos: 0 | 1 | 2): Promise<void> {
    const msgId = this.nextMsgId++;
    const ack = await this.request(
      {
        type: MsgType.Subscribe,
        dup: false,
        qos,
        topicIdType: TopicIdType.Normal,
        msgId,
        topicName: filter,
        topicId: 0,
      },
      MsgType.SubAck,
    );
    if (ack.msgId !== msgId || ack.returnCode !== ReturnCode.Accepted)
      throw new Error(`${this.clientId}: SUBACK ${JSON.stringify(ack)}`);
  }

  /** §6.14: DISCONNECT with a Duration, answered by DISCONNECT; from then on the gateway buffers. */
  async sleep(duration: number): Promise<void> {
    await this.request({ type: MsgType.Disconnect, duration }, MsgType.Disconnect);
  }

  /** §6.14: PINGREQ with the client id; the buffered messages arrive (and are answered), then PINGRESP. */
  async wake(timeoutMs = 15_000): Promise<void> {
    await this.request({ type: MsgType.PingReq, clientId: this.clientId }, MsgType.PingResp, timeoutMs);
  }

  /**
   * Drops acknowledgements not sent yet and gives up the request waiting for an answer (it rejects), as
   * a device does when its gateway vanished.
   */
  forgetPending(): void {
    for (const t of this.pendingAcks) clearTimeout(t);
    this.pendingAcks.clear();
    const w = this.waiter;
    this.waiter = undefined;
    if (w !== undefined) w.reject(new Error(`${this.clientId}: request given up`));
  }

  private onMessage(m: Message): void {
    if (this.waiter !== undefined && this.waiter.type === m.type) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(m);
      return;
    }
    switch (m.type) {
      case MsgType.Register:
        this.send({ type: MsgType.RegAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted });
        return;
      case MsgType.Publish:
        this.onPublish(m);
        return;
      case MsgType.PubRel:
        this.send({ type: MsgType.PubComp, msgId: m.msgId });
        return;
      case MsgType.Disconnect:
        this.gatewayDisconnects++;
        return;
      default:
        return;
    }
  }

  private onPublish(m: Of<MsgType.Publish>): void {
    const payload = Buffer.from(
      (m.data as unknown as Uint8Array).subarray(m.dataOffset, m.dataOffset + m.dataLength),
    ).toString();
    this.lastArrival = Date.now();
    this.received.add(payload);
    if (m.qos === 0) return;
    const answer = (): void => {
      if (m.qos === 2) {
        this.send({ type: MsgType.PubRec, msgId: m.msgId });
        return;
      }
      this.send({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: ReturnCode.Accepted }, () => {
        this.acked++;
        if (this.onAcked !== undefined) this.onAcked(this.acked, payload);
      });
    };
    if (this.ackDelayMs === 0) {
      answer();
      return;
    }
    const timer = setTimeout(() => {
      this.pendingAcks.delete(timer);
      answer();
    }, this.ackDelayMs);
    this.pendingAcks.add(timer);
  }

  close(): Promise<void> {
    this.forgetPending();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
