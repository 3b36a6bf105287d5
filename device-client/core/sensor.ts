import { MsgType, ReturnCode, TopicIdType } from "../../protocol/constants";
import type { Bytes, QoS } from "../../protocol/messages";
import { utf8Length, writeUtf8 } from "../../protocol/text";
import { Session } from "./session";
import { ClientState, PublishResult } from "./types";
import { frame, put16, putBytes, read16 } from "./wire";

/**
 * The sensor profile of the MQTT-SN v1.2 client: gateway discovery or a configured gateway, CONNECT
 * with an optional will, REGISTER, PUBLISH at QoS -1, 0 and 1 to names, predefined ids and short
 * names, keep-alive and the sleep cycle. The platform hands in a transport, a handler and buffers,
 * calls receive() with every datagram and tick() with the time in milliseconds; the client has no
 * timers of its own and, after construction, allocates nothing per message.
 *
 * Bounds: buffers.inflight.length exchanges awaiting an answer at once, options.maxTopics topic
 * names. When full, publish and register return -1 (PublishResult.Refused) and send nothing; the
 * application retries after a done() callback. A message that would not fit buffers.size octets
 * whole (names count in UTF-8 octets) is refused the same way, never sent cut short. A string with a
 * lone UTF-16 surrogate has no UTF-8 form: a name like that throws.
 *
 * Backpressure: while the transport reports busy() (its platform holds as many datagrams not yet
 * sent as the adapter allows), publish() and publishId() return PublishResult.Busy (-2), send nothing
 * and change nothing; handler.ready() follows from tick() once the transport is free. Only new
 * application PUBLISHes are refused: retransmissions, acknowledgements and the connection's own
 * requests are always handed over, so the adapter's queue can exceed its bound by those (at most one
 * per in-flight slot, the connection-level request and the acknowledgements of what arrives).
 *
 * A message from the gateway that only the full client (client.ts) takes is counted in dropped.
 */
export class SensorClient extends Session {
  /**
   * The full client's handler of the messages this profile does not take (the body starts at b, the
   * message ends at end); false drops the message. Absent in the sensor profile.
   */
  other?(type: number, buf: Bytes, b: number, end: number): boolean;

  /** From Asleep or Awake back to Active with a CONNECT (§6.14). Returns false in other states. */
  connect(): boolean {
    if (this.state !== ClientState.Asleep && this.state !== ClientState.Awake) {
      return false;
    }
    this.control(MsgType.Connect);
    return true;
  }

  /** Ends the session with DISCONNECT (§6.6); every open exchange is given up. */
  disconnect(): boolean {
    const state = this.state;
    if (state === ClientState.Disconnected || state === ClientState.Disconnecting) {
      return false;
    }
    if (state === ClientState.Searching || state === ClientState.Lost) {
      this.setState(ClientState.Disconnected);
      return true;
    }
    this.sleepDuration = 0;
    this.setState(ClientState.Disconnecting);
    this.control(MsgType.Disconnect);
    return true;
  }

  /**
   * DISCONNECT with a duration (§6.14): once the gateway answers, the client is Asleep; every
   * `duration` seconds it wakes with PINGREQ, takes the buffered messages and sleeps again on
   * PINGRESP. Refused (false) unless Active with no exchange open.
   */
  sleep(duration: number): boolean {
    if (this.state !== ClientState.Active || this.controlType !== 0 || duration < 1 || this.findSlot(-1, -1) >= 0) {
      return false;
    }
    this.sleepDuration = duration;
    this.control(MsgType.Disconnect);
    return true;
  }

  /**
   * REGISTER a topic name ahead of publishing (§6.5). Returns the MsgId (done() reports the REGACK
   * with the topic id), 0 when the name is already registered, or -1 when refused as publish().
   */
  register(topicName: string): number {
    if (this.findTopic(topicName, -1) >= 0) {
      return 0;
    }
    return this.registerName(topicName, 1);
  }

  /**
   * PUBLISH to a topic name, registering it first when the client has no id for it (§6.10): the
   * PUBLISH then waits in its slot for the REGACK. Returns the MsgId (0 for QoS 0), or -1 when
   * refused: not Active, QoS -1 (needs a predefined or short topic), a QoS the profile lacks, data or
   * the REGISTER of the name too large for the buffers, in-flight or topic table full; or -2
   * (PublishResult.Busy) when the transport is busy: retry on handler.ready().
   */
  publish(topicName: string, data: Bytes, offset: number, length: number, qos: QoS, retain: boolean): number {
    if (
      this.state !== ClientState.Active ||
      qos < 0 ||
      qos > (this.other === undefined ? 1 : 2) ||
      topicName === "" ||
      length + 9 > this.size
    ) {
      return PublishResult.Refused;
    }
    if (this.transport.busy !== undefined && this.transport.busy()) {
      // Backpressure: tick() calls handler.ready() once the transport is free.
      this.sendWaiting = true;
      return PublishResult.Busy;
    }
    const t = this.findTopic(topicName, -1);
    if (t >= 0 && (this.topicIds[t] as number) > 0) {
      return this.publishId(TopicIdType.Normal, this.topicIds[t] as number, data, offset, length, qos, retain);
    }
    let free = 0;
    for (let s = 0; s < this.slotType.length; s++) {
      free += this.slotType[s] === 0 ? 1 : 0;
    }
    if (free < (t < 0 ? 2 : 1) || (t < 0 && this.registerName(topicName, 0) < 0)) {
      return PublishResult.Refused;
    }
    this.waitingTopic = this.findTopic(topicName, -1);
    return this.publishId(TopicIdType.Normal, 0, data, offset, length, qos, retain);
  }

  /**
   * PUBLISH to a predefined topic id or a short topic name (shortTopicId("ab")), §3.3.2: no REGISTER.
   * QoS -1 (§6.8) is sent in any state, to the selected or configured gateway. Returns as publish().
   */
  publishId(
    topicIdType: TopicIdType,
    topicId: number,
    data: Bytes,
    offset: number,
    length: number,
    qos: QoS,
    retain: boolean,
  ): number {
    // Set by publish(): the PUBLISH waits in its slot for the REGACK of this topic entry.
    const waiting = this.waitingTopic;
    this.waitingTopic = -1;
    const anyState = qos === -1 && topicIdType !== TopicIdType.Normal;
    if (
      length + 9 > this.size ||
      qos > (this.other === undefined ? 1 : 2) ||
      (!anyState && (qos < 0 || this.state !== ClientState.Active))
    ) {
      return PublishResult.Refused;
    }
    if (waiting < 0 && this.transport.busy !== undefined && this.transport.busy()) {
      this.sendWaiting = true;
      return PublishResult.Busy;
    }
    const s = qos > 0 || waiting >= 0 ? this.openSlot(MsgType.Publish, 0, waiting, qos) : -1;
    if (s < 0 && (qos > 0 || waiting >= 0)) {
      return PublishResult.Refused;
    }
    const buf = s < 0 ? this.tx : (this.slotBuf[s] as Bytes);
    const msgId = s < 0 ? 0 : (this.slotMsgId[s] as number);
    // §5.4.12: Flags (QoS -1 is 0b11, Retain, TopicIdType), TopicId, MsgId, Data.
    const b = frame(buf, MsgType.Publish, 5 + length);
    buf[b] = (qos < 0 ? 0x60 : qos * 0x20) + (retain ? 0x10 : 0) + topicIdType;
    const end = putBytes(buf, put16(buf, put16(buf, b + 1, topicId), msgId), data, offset, length);
    if (s < 0) {
      this.transmit(-1, end);
      return 0;
    }
    this.slotLength[s] = end;
    if (waiting >= 0) {
      this.slotDue[s] = -1;
    } else {
      this.transmit(s, 0);
    }
    return msgId;
  }

  /**
   * One datagram from the network. fromGateway: the adapter saw it come from the selected gateway;
   * anything else is taken only when it is an ADVERTISE or GWINFO. Never throws on bad input: a
   * malformed datagram is counted in dropped.
   */
  receive(buf: Bytes, length: number, fromGateway: boolean): void {
    // §5.2.1: a Length of 0x01 announces the 3-octet form.
    const long = length >= 4 && buf[0] === 0x01;
    const b = long ? 4 : 2;
    const type = length >= b ? (buf[b - 1] as number) : -1;
    const n = length - b;
    // The body has the form §5.4 gives a message of this type from a gateway; whatever else arrives (a
    // type only clients send, a reserved type, a wrong length) is malformed here.
    let fits = false;
    switch (type) {
      case MsgType.Advertise:
        fits = n === 3;
        break;
      case MsgType.GwInfo:
        fits = n >= 1;
        break;
      case MsgType.ConnAck:
      case MsgType.WillTopicResp:
      case MsgType.WillMsgResp:
        fits = n === 1;
        break;
      case MsgType.WillTopicReq:
      case MsgType.WillMsgReq:
      case MsgType.PingResp:
        fits = n === 0;
        break;
      case MsgType.Register:
      case MsgType.Publish:
        fits = n >= 5;
        break;
      case MsgType.RegAck:
      case MsgType.PubAck:
        fits = n === 5;
        break;
      case MsgType.PubRec:
      case MsgType.PubRel:
      case MsgType.PubComp:
      case MsgType.UnsubAck:
        fits = n === 2;
        break;
      case MsgType.SubAck:
        fits = n === 6;
        break;
      case MsgType.Disconnect:
        fits = n === 0 || n === 2;
        break;
    }
    if (!fits || (long ? read16(buf, 1) : buf[0]) !== length) {
      this.dropped++;
      return;
    }
    const state = this.state;
    const o = this.options;
    const tx = this.tx;
    if (type === MsgType.Advertise || type === MsgType.GwInfo) {
      // §6.1: only one heard while Searching selects a gateway; the selected one's ADVERTISEs keep it.
      const gwId = buf[b] as number;
      const due =
        type === MsgType.Advertise ? this.now + read16(buf, b + 1) * 1000 * o.advertiseMisses + o.retryInterval : 0;
      if (state === ClientState.Searching) {
        this.gwId = gwId;
        this.transport.selectGateway(gwId);
        this.advertiseDue = due;
        this.control(MsgType.Connect);
      } else if (type === MsgType.Advertise && fromGateway && gwId === this.gwId) {
        this.advertiseDue = due;
      }
    } else if (!fromGateway) {
      this.dropped++;
    } else if (type === MsgType.ConnAck && state === ClientState.Connecting) {
      // Congestion or refusal (§5.3.10): try again after reconnectDelay.
      this.setState(buf[b] === ReturnCode.Accepted ? ClientState.Active : ClientState.Lost);
    } else if ((type === MsgType.WillTopicReq || type === MsgType.WillMsgReq) && state === ClientState.Connecting) {
      // §6.3: the will handshake answers WILLTOPICREQ with WILLTOPIC (§5.4.7: Flags, WillTopic) and
      // WILLMSGREQ with WILLMSG (§5.4.9); CONNECT's timer covers it all.
      const will = o.willTopic;
      let end: number;
      if (type === MsgType.WillTopicReq) {
        end = frame(tx, MsgType.WillTopic, will === "" ? 0 : 1 + utf8Length(will));
        if (will !== "") {
          tx[end] = (o.willQos < 0 ? 0x60 : o.willQos * 0x20) + (o.willRetain ? 0x10 : 0);
          end += 1 + writeUtf8(will, tx, end + 1);
        }
      } else {
        end = frame(tx, MsgType.WillMsg, o.willMessageLength);
        end = putBytes(tx, end, o.willMessage, 0, o.willMessageLength);
      }
      this.controlDue = this.now + o.retryInterval;
      this.transmit(-1, end);
    } else if (type === MsgType.RegAck) {
      // §6.5: the REGACK of a REGISTER; PUBLISHes waiting for its id go out (or fail) with it.
      const r = this.findSlot(MsgType.Register, read16(buf, b + 2));
      const t = r < 0 ? -1 : (this.slotTopic[r] as number);
      const topicId = read16(buf, b);
      const returnCode = buf[b + 4] as number;
      if (t >= 0 && returnCode === ReturnCode.Accepted) {
        this.topicIds[t] = topicId;
      }
      for (let p = 0; p < this.slotType.length && t >= 0; p++) {
        if (this.slotType[p] === MsgType.Publish && this.slotDue[p] === -1 && this.slotTopic[p] === t) {
          if (returnCode !== ReturnCode.Accepted) {
            this.finish(p, returnCode, 0);
          } else {
            const pub = this.slotBuf[p] as Bytes;
            put16(pub, (pub[0] === 0x01 ? 4 : 2) + 1, topicId);
            this.transmit(p, 0);
            if (this.slotQos[p] === 0) {
              this.finish(p, 0, 0);
            }
          }
        }
      }
      this.finish(r, returnCode, topicId);
      if (t >= 0 && returnCode !== ReturnCode.Accepted) {
        this.topicName[t] = "";
      }
    } else if (type === MsgType.PubAck) {
      const s = this.findSlot(MsgType.Publish, read16(buf, b + 2));
      const t = s < 0 ? -1 : (this.slotTopic[s] as number);
      this.finish(s, buf[b + 4] as number, read16(buf, b));
      let needed = false;
      for (let q = 0; q < this.slotTopic.length; q++) {
        needed = needed || (t >= 0 && this.slotTopic[q] === t);
      }
      if (buf[b + 4] === ReturnCode.InvalidTopicId && t >= 0 && !needed) {
        // §6.7: the gateway no longer knows the id: forget it, the next publish registers again.
        this.topicName[t] = "";
      }
    } else if (type === MsgType.PingResp && this.controlType === MsgType.PingReq) {
      this.controlType = 0;
      if (state === ClientState.Awake) {
        // §6.14: PINGRESP ends the awake window: back to sleep for another duration.
        this.setState(ClientState.Asleep);
      }
    } else if (type === MsgType.Disconnect) {
      // The gateway ended the session on its own: start again. Else the answer to ours: ended or asleep.
      if (this.controlType !== MsgType.Disconnect) {
        this.setState(ClientState.Lost);
      } else {
        this.setState(state === ClientState.Disconnecting ? ClientState.Disconnected : ClientState.Asleep);
      }
    } else if (this.other === undefined || !this.other(type, buf, b, length)) {
      this.dropped++;
    }
  }
}
