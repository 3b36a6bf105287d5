import dgram from "node:dgram";
import { decode, encode, hasWildcard, MsgType, type Message, type QoS } from "../../../protocol/index";

/** True when an MQTT topic name matches a filter with + and # wildcards. */
export function topicMatches(filter: string, name: string): boolean {
  const f = filter.split("/");
  const n = name.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= n.length || (f[i] !== "+" && f[i] !== n[i])) return false;
  }
  return f.length === n.length;
}

/**
 * A scripted MQTT-SN gateway on a real UDP socket (127.0.0.1, ephemeral port) for one client: it
 * answers CONNECT (with the will handshake), REGISTER, PUBLISH at every QoS, SUBSCRIBE, UNSUBSCRIBE,
 * PINGREQ and DISCONNECT, and echoes every PUBLISH that matches the client's own subscriptions back
 * to it (REGISTER first for a wildcard subscription, as a gateway must, §6.10). A client asleep
 * (DISCONNECT with a duration) has deliver()ed messages buffered until its PINGREQ. It records every
 * datagram each way as "> hex" (client to peer) and "< hex" (peer to client).
 */
export class ScriptedPeer {
  readonly transcript: string[] = [];
  readonly socket = dgram.createSocket("udp4");
  port = 0;
  private client: { address: string; port: number } | undefined;
  private readonly ids = new Map<string, number>();
  private readonly known = new Set<number>();
  private readonly subscriptions: { filter: string; qos: QoS }[] = [];
  private readonly waiting = new Map<number, Message>();
  private nextTopicId = 1;
  private asleep = false;
  private readonly buffered: Message[] = [];
  private nextMsgId = 100;

  async start(): Promise<number> {
    this.socket.on("message", (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.transcript.push("> " + msg.toString("hex"));
      const m = decode(msg as unknown as number[], 0, msg.length);
      if (m.type !== "error") this.handle(m);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, "127.0.0.1", resolve));
    this.port = this.socket.address().port;
    return this.port;
  }

  close(): void {
    this.socket.close();
  }

  private send(m: Message): void {
    const buf = Buffer.alloc(512);
    const n = encode(m, buf as unknown as number[], 0);
    this.transcript.push("< " + buf.subarray(0, n).toString("hex"));
    if (this.client) this.socket.send(buf.subarray(0, n), this.client.port, this.client.address);
  }

  private topicId(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.nextTopicId++;
      this.ids.set(name, id);
    }
    return id;
  }

  private nameOf(id: number): string | undefined {
    for (const [name, value] of this.ids) if (value === id) return name;
    return undefined;
  }

  private handle(m: Message): void {
    switch (m.type) {
      case MsgType.Connect:
        this.asleep = false;
        this.send(m.will ? { type: MsgType.WillTopicReq } : { type: MsgType.ConnAck, returnCode: 0 });
        return;
      case MsgType.WillTopic:
        this.send({ type: MsgType.WillMsgReq });
        return;
      case MsgType.WillMsg:
        this.send({ type: MsgType.ConnAck, returnCode: 0 });
        return;
      case MsgType.Register: {
        const id = this.topicId(m.topicName);
        this.known.add(id);
        this.send({ type: MsgType.RegAck, topicId: id, msgId: m.msgId, returnCode: 0 });
        return;
      }
      case MsgType.RegAck: {
        const pending = this.waiting.get(m.msgId);
        this.waiting.delete(m.msgId);
        if (pending) this.send(pending);
        return;
      }
      case MsgType.Subscribe: {
        this.subscriptions.push({ filter: m.topicName, qos: m.qos });
        const id = hasWildcard(m.topicName) ? 0 : this.topicId(m.topicName);
        if (id !== 0) this.known.add(id);
        this.send({ type: MsgType.SubAck, qos: m.qos, topicId: id, msgId: m.msgId, returnCode: 0 });
        return;
      }
      case MsgType.Unsubscribe:
        this.send({ type: MsgType.UnsubAck, msgId: m.msgId });
        return;
      case MsgType.Publish: {
        if (m.qos === 1) this.send({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 });
        if (m.qos === 2) this.send({ type: MsgType.PubRec, msgId: m.msgId });
        const name = m.topicIdType === 0 ? this.nameOf(m.topicId) : undefined;
        if (name !== undefined) this.echo(name, m.data.slice(m.dataOffset, m.dataOffset + m.dataLength), m.qos);
        return;
      }
      case MsgType.PubRel:
        this.send({ type: MsgType.PubComp, msgId: m.msgId });
        return;
      case MsgType.PubRec:
        this.send({ type: MsgType.PubRel, msgId: m.msgId });
        return;
      case MsgType.PingReq:
        if (m.clientId !== undefined) {
          // §6.14: a waking client gets what was buffered, then PINGRESP.
          for (const b of this.buffered.splice(0)) this.send(b);
        }
        this.send({ type: MsgType.PingResp });
        return;
      case MsgType.Disconnect:
        this.asleep = m.duration !== undefined;
        this.send({ type: MsgType.Disconnect, duration: undefined });
        return;
      case MsgType.WillTopicUpd:
        this.send({ type: MsgType.WillTopicResp, returnCode: 0 });
        return;
      case MsgType.WillMsgUpd:
        this.send({ type: MsgType.WillMsgResp, returnCode: 0 });
        return;
      default:
        return;
    }
  }

  /** A PUBLISH from "upstream" on a topic the client knows: sent now, or buffered while it sleeps. */
  deliver(name: string, payload: string, qos: QoS): void {
    const publish: Message = {
      type: MsgType.Publish,
      dup: false,
      qos,
      retain: false,
      topicIdType: 0,
      topicId: this.topicId(name),
      msgId: qos > 0 ? this.nextMsgId++ : 0,
      data: Array.from(Buffer.from(payload)),
      dataOffset: 0,
      dataLength: payload.length,
    };
    if (this.asleep) this.buffered.push(publish);
    else this.send(publish);
  }

  private echo(name: string, data: number[], qos: QoS): void {
    for (const s of this.subscriptions) {
      if (!topicMatches(s.filter, name)) continue;
      const q = Math.min(qos < 0 ? 0 : qos, s.qos) as QoS;
      const id = this.topicId(name);
      const publish: Message = {
        type: MsgType.Publish,
        dup: false,
        qos: q,
        retain: false,
        topicIdType: 0,
        topicId: id,
        msgId: q > 0 ? this.nextMsgId++ : 0,
        data: Array.from(data),
        dataOffset: 0,
        dataLength: data.length,
      };
      if (this.known.has(id)) {
        this.send(publish);
      } else {
        this.known.add(id);
        const msgId = this.nextMsgId++;
        this.waiting.set(msgId, publish);
        this.send({ type: MsgType.Register, topicId: id, msgId, topicName: name });
      }
    }
  }
}
