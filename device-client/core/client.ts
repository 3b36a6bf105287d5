import { MsgType, ReturnCode, TopicIdType } from "../../protocol/constants";
import type { Bytes, QoS } from "../../protocol/messages";
import { readUtf8, utf8Length, writeUtf8 } from "../../protocol/text";
import { SensorClient } from "./sensor";
import type { ClientBuffers, ClientHandler, ClientOptions, Transport } from "./types";
import { frame, messageLength, put16, read16 } from "./wire";

/**
 * The body length (after Length and MsgType) of each message a gateway sends, by MsgType 0x00 ..
 * 0x1d (§5.4): a digit n for exactly n octets, a letter for at least 0 (a), 1 (b) … octets, "*" for
 * DISCONNECT (0, or 2 with a Duration), "-" for a type a gateway does not send. ADVERTISE 3, GWINFO
 * 1+, CONNACK 1, WILLTOPICREQ 0, WILLMSGREQ 0, REGISTER 5+, REGACK 5, PUBLISH 5+, PUBACK 5, PUBCOMP,
 * PUBREC and PUBREL 2, SUBACK 6, UNSUBACK 2, PINGRESP 0, WILLTOPICRESP and WILLMSGRESP 1. The sensor
 * profile checks the messages it takes itself (SensorClient.receive).
 */
const GATEWAY_BODY = "3-b--10-0-f5f5222--6-2-0*--1-1";

/**
 * The full MQTT-SN v1.2 client: the sensor profile (sensor.ts) plus SUBSCRIBE and UNSUBSCRIBE
 * (§6.9), incoming PUBLISH at every QoS (§6.7), QoS 2 both ways, REGISTER from the gateway (§6.10)
 * and the will updates (§6.4). options.maxIncomingQos2 bounds the incoming QoS 2 ids awaiting
 * PUBREL; when full, such a PUBLISH is not answered, so that the gateway sends it again later.
 */
export class MqttSnClient extends SensorClient {
  /** The topic name of each slot's SUBSCRIBE, to keep the id its SUBACK returns. */
  readonly slotName: string[];

  constructor(transport: Transport, handler: ClientHandler, buffers: ClientBuffers, options: ClientOptions) {
    super(transport, handler, buffers, options);
    this.slotName = [];
    for (let s = 0; s < buffers.inflight.length; s++) {
      this.slotName[s] = "";
    }
    this.qos2Ids = [];
    for (let i = 0; i < options.maxIncomingQos2; i++) {
      this.qos2Ids[i] = 0;
    }
  }

  /**
   * The topic id of a name: the registered id, 0 while its REGISTER is unanswered, -1 when the
   * client has no entry for it (ids are forgotten with every new session). The sensor
   * profile has no such query: done() reports the id of each REGISTER's REGACK.
   */
  topicId(topicName: string): number {
    const t = this.findTopic(topicName, -1);
    return t < 0 ? -1 : (this.topicIds[t] as number);
  }

  /** SUBSCRIBE to a topic name or filter (§6.9). Returns the MsgId, or -1 when refused as publish(). */
  subscribe(topicName: string, qos: QoS): number {
    return this.subscription(MsgType.Subscribe, TopicIdType.Normal, 0, topicName, qos);
  }

  /** SUBSCRIBE to a predefined id or a short topic name. */
  subscribeId(topicIdType: TopicIdType, topicId: number, qos: QoS): number {
    return this.subscription(MsgType.Subscribe, topicIdType, topicId, "", qos);
  }

  unsubscribe(topicName: string): number {
    return this.subscription(MsgType.Unsubscribe, TopicIdType.Normal, 0, topicName, 0);
  }

  unsubscribeId(topicIdType: TopicIdType, topicId: number): number {
    return this.subscription(MsgType.Unsubscribe, topicIdType, topicId, "", 0);
  }

  /** SUBSCRIBE or UNSUBSCRIBE (§5.4.15, §5.4.17): Flags, MsgId, then the topic name or a 2-octet id. */
  subscription(type: number, topicIdType: TopicIdType, topicId: number, name: string, qos: QoS): number {
    const normal = topicIdType === TopicIdType.Normal;
    if (qos < 0 || normal !== (name !== "")) {
      return -1;
    }
    const s = this.openSlot(type, messageLength(normal ? 3 : 5, name), -1, qos);
    if (s < 0) {
      return -1;
    }
    const buf = this.slotBuf[s] as Bytes;
    const b = frame(buf, type, normal ? 3 + utf8Length(name) : 5);
    buf[b] = qos * 0x20 + topicIdType;
    put16(buf, b + 1, this.slotMsgId[s] as number);
    if (normal) {
      writeUtf8(name, buf, b + 3);
    } else {
      put16(buf, b + 3, topicId);
    }
    this.slotName[s] = type === MsgType.Subscribe ? name : "";
    this.transmit(s);
    return this.slotMsgId[s] as number;
  }

  /** WILLTOPICUPD (§6.4, §5.4.22: Flags, WillTopic; no Flags when "" deletes the will). Returns 0, or -1 when refused. */
  updateWillTopic(willTopic: string, qos: QoS, retain: boolean): number {
    const s = this.openSlot(MsgType.WillTopicUpd, messageLength(1, willTopic), -1, 0);
    if (s < 0) {
      return -1;
    }
    const buf = this.slotBuf[s] as Bytes;
    const b = frame(buf, MsgType.WillTopicUpd, willTopic === "" ? 0 : 1 + utf8Length(willTopic));
    if (willTopic !== "") {
      buf[b] = (qos < 0 ? 0x60 : qos * 0x20) + (retain ? 0x10 : 0);
      writeUtf8(willTopic, buf, b + 1);
    }
    this.transmit(s);
    return 0;
  }

  /** WILLMSGUPD (§6.4, §5.4.23). Returns 0, or -1 when refused. */
  updateWillMessage(data: Bytes, offset: number, length: number): number {
    const s = this.openSlot(MsgType.WillMsgUpd, length + 4, -1, 0);
    if (s < 0) {
      return -1;
    }
    const buf = this.slotBuf[s] as Bytes;
    const b = frame(buf, MsgType.WillMsgUpd, length);
    for (let i = 0; i < length; i++) {
      buf[b + i] = data[offset + i] as number;
    }
    this.transmit(s);
    return 0;
  }

  /**
   * The messages the sensor profile did not take, and the selected gateway's ADVERTISEs; the body
   * starts at b, the message ends at end. A body of another length than GATEWAY_BODY gives its type
   * is malformed: false (dropped).
   */
  override other(type: number, buf: Bytes, b: number, end: number): boolean {
    // charCodeAt gives NaN for a type beyond the table, which fails every test.
    const form = GATEWAY_BODY.charCodeAt(type);
    const body = end - b;
    if (
      !(form >= 0x30 && form <= 0x39
        ? body === form - 0x30
        : form >= 0x61
          ? body >= form - 0x61
          : form === 0x2a && (body === 0 || body === 2))
    ) {
      return false;
    }
    // MsgId: after TopicId in REGISTER, after Flags and TopicId in SUBACK and PUBLISH, first elsewhere (§5.4).
    const at = type === MsgType.Register ? b + 2 : type === MsgType.SubAck || type === MsgType.Publish ? b + 3 : b;
    const msgId = end - at >= 2 ? read16(buf, at) : 0;
    if (type === MsgType.Advertise) {
      // §6.1: the selected gateway's ADVERTISE: lost once advertiseMisses (N_ADV) in a row are missed.
      if (buf[b] === this.gwId) {
        this.advertiseDue =
          this.now + read16(buf, b + 1) * 1000 * this.options.advertiseMisses + this.options.retryInterval;
      }
    } else if (type === MsgType.Publish) {
      // §6.7, §6.8: acknowledge first, then hand the message to the application.
      const f = buf[b] as number;
      const q = Math.floor(f / 0x20) % 4;
      const qos = q === 3 ? -1 : q;
      const topicIdType = f % 4;
      const topicId = read16(buf, b + 1);
      let name = "";
      if (topicIdType === TopicIdType.Normal) {
        let t = -1;
        for (let i = 0; i < this.topicName.length; i++) {
          t = this.topicName[i] !== "" && this.topicIds[i] === topicId ? i : t;
        }
        if (t < 0) {
          // §6.7: an unknown topic id is answered with PUBACK "invalid topic id".
          this.ack(MsgType.PubAck, topicId, msgId, ReturnCode.InvalidTopicId);
          return false;
        }
        this.topicUsed[t] = ++this.topicClock;
        name = this.topicName[t] as string;
      } else if (topicIdType === 3) {
        return false;
      }
      if (qos === 1) {
        this.ack(MsgType.PubAck, topicId, msgId, ReturnCode.Accepted);
      } else if (qos === 2) {
        let free = -1;
        const ids = this.qos2Ids as number[];
        for (let i = ids.length - 1; i >= 0; i--) {
          if (ids[i] === msgId) {
            // §6.7: a duplicate QoS 2 PUBLISH is acknowledged again but delivered once.
            this.ack(MsgType.PubRec, 0, msgId, 0);
            return true;
          }
          free = ids[i] === 0 ? i : free;
        }
        if (free < 0) {
          // No room to remember the id: stay silent so that the gateway sends it again later.
          return false;
        }
        ids[free] = msgId;
        this.ack(MsgType.PubRec, 0, msgId, 0);
      }
      const retain = Math.floor(f / 0x10) % 2 === 1;
      this.handler.message(name, topicIdType, topicId, buf, b + 5, end - b - 5, qos < 0 ? 0 : (qos as QoS), retain);
    } else if (type === MsgType.Register) {
      // §6.10: the gateway names a topic id before publishing on it (wildcard subscriptions).
      const name = readUtf8(buf, b + 4, end);
      if (typeof name !== "string") {
        return false;
      }
      const topicId = read16(buf, b);
      const t = this.findTopic(name, topicId);
      if (t >= 0 && (this.topicIds[t] as number) > 0) {
        this.topicIds[t] = topicId;
      }
      this.ack(MsgType.RegAck, topicId, msgId, t < 0 ? ReturnCode.Congestion : ReturnCode.Accepted);
    } else if (type === MsgType.PubRec) {
      let s = this.findSlot(MsgType.Publish, msgId);
      s = s < 0 ? this.findSlot(MsgType.PubRel, msgId) : s;
      if (s < 0 || this.slotQos[s] !== 2) {
        return false;
      }
      // §6.7: PUBREL takes the PUBLISH's place in its slot until PUBCOMP.
      this.slotType[s] = MsgType.PubRel;
      this.slotRetries[s] = 0;
      put16(this.slotBuf[s] as Bytes, frame(this.slotBuf[s] as Bytes, MsgType.PubRel, 2), msgId);
      this.transmit(s);
    } else if (type === MsgType.PubRel) {
      const ids = this.qos2Ids as number[];
      for (let i = 0; i < ids.length; i++) {
        ids[i] = ids[i] === msgId ? 0 : (ids[i] as number);
      }
      this.ack(MsgType.PubComp, 0, msgId, 0);
    } else if (type === MsgType.PubComp) {
      this.finish(this.findSlot(MsgType.PubRel, msgId), ReturnCode.Accepted, -1);
    } else if (type === MsgType.SubAck) {
      const s = this.findSlot(MsgType.Subscribe, msgId);
      const topicId = read16(buf, b + 1);
      const name = s < 0 ? "" : (this.slotName[s] as string);
      if (buf[b + 5] === ReturnCode.Accepted && name !== "" && topicId !== 0) {
        // §6.9: a name without wildcards comes back with its topic id; keep it for incoming PUBLISH.
        this.findTopic(name, topicId);
      }
      this.finish(s, buf[b + 5] as number, topicId);
    } else if (type === MsgType.UnsubAck) {
      this.finish(this.findSlot(MsgType.Unsubscribe, msgId), ReturnCode.Accepted, 0);
    } else if (type === MsgType.WillTopicResp || type === MsgType.WillMsgResp) {
      const update = type === MsgType.WillTopicResp ? MsgType.WillTopicUpd : MsgType.WillMsgUpd;
      this.finish(this.findSlot(update, 0), buf[b] as number, 0);
    } else {
      return false;
    }
    return true;
  }

  /** PUBACK or REGACK (TopicId, MsgId, ReturnCode: §5.4.11, §5.4.13), or PUBREC / PUBCOMP (MsgId). */
  ack(type: number, topicId: number, msgId: number, returnCode: number): void {
    const tx = this.tx;
    const withCode = type === MsgType.PubAck || type === MsgType.RegAck;
    let b = frame(tx, type, withCode ? 5 : 2);
    if (withCode) {
      b = put16(tx, b, topicId);
      tx[b + 2] = returnCode;
    }
    put16(tx, b, msgId);
    this.transmit(-1);
  }
}
