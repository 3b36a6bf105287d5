import { MsgType, ReturnCode, TopicIdType } from "../../protocol/constants";
import type { Bytes, QoS } from "../../protocol/messages";
import { utf8Length, writeUtf8 } from "../../protocol/text";
import { Session } from "./session";
import { ClientState, PublishResult } from "./types";
import { flags, frame, gatewayBodyFits, messageLength, put16, putBytes, read16 } from "./wire";

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
      this.failAll();
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
    if (this.state !== ClientState.Active || this.controlType !== 0 || duration < 1 || this.openSlots() > 0) {
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
    if (this.findTopic(topicName) >= 0) {
      return 0;
    }
    return this.registerName(topicName, 1);
  }

  /** A new topic entry and its REGISTER in a new slot; report: 1 when done() tells of the REGACK. */
  registerName(topicName: string, report: number): number {
    // §5.4.10: TopicId (2), MsgId (2), TopicName.
    const octets = topicName === "" ? this.size + 1 : messageLength(4, topicName);
    const r = this.openSlot(MsgType.Register, octets, -1, report, true);
    if (r < 0) {
      return -1;
    }
    const t = this.insertTopic(topicName, 0);
    if (t < 0) {
      this.slotType[r] = 0;
      return -1;
    }
    this.slotTopic[r] = t;
    this.sendRegister(r, topicName);
    return this.slotMsgId[r] as number;
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
      qos > this.maxQos ||
      topicName === "" ||
      length + 9 > this.size
    ) {
      return PublishResult.Refused;
    }
    if (this.transportBusy()) {
      return PublishResult.Busy;
    }
    let t = this.findTopic(topicName);
    if (t >= 0 && (this.topicIds[t] as number) > 0) {
      return this.publishId(TopicIdType.Normal, this.topicIds[t] as number, data, offset, length, qos, retain);
    }
    if (this.slotType.length - this.openSlots() < (t < 0 ? 2 : 1) || (t < 0 && this.registerName(topicName, 0) < 0)) {
      return PublishResult.Refused;
    }
    t = this.findTopic(topicName);
    const s = this.openSlot(MsgType.Publish, 0, t, qos, qos > 0);
    const buf = this.slotBuf[s] as Bytes;
    this.slotLength[s] = this.writePublish(
      buf,
      qos,
      this.slotMsgId[s] as number,
      TopicIdType.Normal,
      0,
      data,
      offset,
      length,
      retain,
    );
    this.slotDue[s] = -1;
    return this.slotMsgId[s] as number;
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
    const anyState = qos === -1 && topicIdType !== TopicIdType.Normal;
    if (length + 9 > this.size || qos > this.maxQos || (!anyState && (qos < 0 || this.state !== ClientState.Active))) {
      return PublishResult.Refused;
    }
    if (this.transportBusy()) {
      return PublishResult.Busy;
    }
    if (qos <= 0) {
      this.transmit(this.tx, this.writePublish(this.tx, qos, 0, topicIdType, topicId, data, offset, length, retain));
      return 0;
    }
    const s = this.openSlot(MsgType.Publish, 0, -1, qos, true);
    if (s < 0) {
      return PublishResult.Refused;
    }
    const buf = this.slotBuf[s] as Bytes;
    this.slotLength[s] = this.writePublish(
      buf,
      qos,
      this.slotMsgId[s] as number,
      topicIdType,
      topicId,
      data,
      offset,
      length,
      retain,
    );
    this.sendSlot(s);
    return this.slotMsgId[s] as number;
  }

  /** Writes a PUBLISH (§5.4.12: Flags, TopicId, MsgId, Data) into buf; returns its length. */
  writePublish(
    buf: Bytes,
    qos: number,
    msgId: number,
    topicIdType: TopicIdType,
    topicId: number,
    data: Bytes,
    offset: number,
    length: number,
    retain: boolean,
  ): number {
    const b = frame(buf, MsgType.Publish, 5 + length);
    buf[b] = flags(qos, (retain ? 0x10 : 0) + topicIdType);
    return putBytes(buf, put16(buf, put16(buf, b + 1, topicId), msgId), data, offset, length);
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
    if (type < 0 || (long ? read16(buf, 1) : buf[0]) !== length || !gatewayBodyFits(type, length - b)) {
      this.dropped++;
      return;
    }
    const state = this.state;
    if (type === MsgType.Advertise || type === MsgType.GwInfo) {
      this.onGateway(type, buf[b] as number, type === MsgType.Advertise ? read16(buf, b + 1) : 0, fromGateway);
      return;
    }
    if (!fromGateway) {
      this.dropped++;
      return;
    }
    const o = this.options;
    const tx = this.tx;
    if (type === MsgType.ConnAck && state === ClientState.Connecting) {
      this.controlType = 0;
      if (buf[b] !== ReturnCode.Accepted) {
        // Congestion or refusal (§5.3.10): try again after reconnectDelay.
        this.lost();
        return;
      }
      this.failAll();
      this.setState(ClientState.Active);
    } else if ((type === MsgType.WillTopicReq || type === MsgType.WillMsgReq) && state === ClientState.Connecting) {
      // §6.3: the will handshake answers WILLTOPICREQ and WILLMSGREQ; CONNECT's timer covers it all.
      let n: number;
      if (type === MsgType.WillTopicReq) {
        n = this.writeWillTopic(MsgType.WillTopic, tx, o.willTopic, o.willQos, o.willRetain);
      } else {
        n = this.writeWillMessage(MsgType.WillMsg, tx, o.willMessage, 0, o.willMessageLength);
      }
      this.controlDue = this.now + o.retryInterval;
      this.transmit(tx, n);
    } else if (type === MsgType.RegAck) {
      const r = this.findSlot(MsgType.Register, read16(buf, b + 2));
      if (r < 0) {
        this.dropped++;
      } else {
        this.onRegAck(r, read16(buf, b), buf[b + 4] as number);
      }
    } else if (type === MsgType.PubAck) {
      const s = this.findSlot(MsgType.Publish, read16(buf, b + 2));
      const t = s < 0 ? -1 : (this.slotTopic[s] as number);
      this.finish(s, buf[b + 4] as number, read16(buf, b), false);
      if (buf[b + 4] === ReturnCode.InvalidTopicId && t >= 0 && !this.topicNeeded(t)) {
        // §6.7: the gateway no longer knows the id: forget it, the next publish registers again.
        this.topicName[t] = "";
      }
    } else if (type === MsgType.PingResp && this.controlType === MsgType.PingReq) {
      this.controlType = 0;
      if (state === ClientState.Awake) {
        // §6.14: PINGRESP ends the awake window: back to sleep for another duration.
        this.stateDue = this.now + this.sleepDuration * 1000;
        this.setState(ClientState.Asleep);
      }
    } else if (type === MsgType.Disconnect) {
      if (this.controlType !== MsgType.Disconnect) {
        // The gateway ended the session on its own: start again.
        this.lost();
      } else if (state === ClientState.Disconnecting) {
        this.controlType = 0;
        this.failAll();
        this.setState(ClientState.Disconnected);
      } else {
        this.controlType = 0;
        this.stateDue = this.now + this.sleepDuration * 1000;
        this.setState(ClientState.Asleep);
      }
    } else if (!this.other(type, buf, b, length)) {
      this.dropped++;
    }
  }

  /** §6.1: an ADVERTISE or GWINFO; only one heard while Searching selects a gateway. */
  onGateway(type: number, gwId: number, duration: number, fromGateway: boolean): void {
    const o = this.options;
    const due = type === MsgType.Advertise ? this.now + duration * 1000 * o.advertiseMisses + o.retryInterval : 0;
    if (this.state === ClientState.Searching) {
      this.gwId = gwId;
      this.transport.selectGateway(gwId);
      this.advertiseDue = due;
      this.control(MsgType.Connect);
    } else if (type === MsgType.Advertise && fromGateway && gwId === this.gwId) {
      this.advertiseDue = due;
    }
  }

  /** A message the sensor profile does not take (body at b, message end at end): false drops it. */
  other(_type: number, _buf: Bytes, _b: number, _end: number): boolean {
    return false;
  }

  /** WILLTOPIC or WILLTOPICUPD (§5.4.7, §5.4.22: Flags, WillTopic; no Flags when "" deletes the will). */
  writeWillTopic(type: number, buf: Bytes, willTopic: string, qos: QoS, retain: boolean): number {
    if (willTopic === "") {
      return frame(buf, type, 0);
    }
    const b = frame(buf, type, 1 + utf8Length(willTopic));
    buf[b] = flags(qos, retain ? 0x10 : 0);
    return b + 1 + writeUtf8(willTopic, buf, b + 1);
  }

  /** WILLMSG or WILLMSGUPD (§5.4.9, §5.4.23). */
  writeWillMessage(type: number, buf: Bytes, data: Bytes, offset: number, length: number): number {
    return putBytes(buf, frame(buf, type, length), data, offset, length);
  }
}
