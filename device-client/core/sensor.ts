import { MsgType, ReturnCode, TopicIdType } from "../../protocol/constants";
import type { Bytes, QoS } from "../../protocol/messages";
import { utf8Length, writeUtf8 } from "../../protocol/text";
import {
  ClientState,
  PublishResult,
  type ClientBuffers,
  type ClientHandler,
  type ClientOptions,
  type Transport,
} from "./types";
import { HAS_FULL } from "./has-full";
import { frame, messageLength, put16, read16 } from "./wire";

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
 * whole (names count in UTF-8 octets) is refused the same way, never sent cut short; in the sensor
 * profile buffers.size counts up to 255 octets, the 1-octet Length form (§5.2.1). A string with a
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
 *
 * Inside: state and time, the connection-level request (CONNECT, PINGREQ or DISCONNECT), the
 * in-flight slots with their retransmission (§6.13), the topic table, discovery (§6.1), keep-alive
 * (§6.15) and the sleep timer (§6.14). MqttSnClient (client.ts) adds the full client on top.
 *
 * Everything is allocated in the constructor, except the topic table, which grows to
 * options.maxTopics entries as names are first used (a sensor seldom has more than a few). On
 * Espruino every function, parameter, property and class costs RAM whatever its size, so the work is
 * done in one class with a few methods over parallel arrays instead of many small functions and
 * message objects: one dispatch over the message type, the side effects of a state change in
 * setState, state in fields rather than parameters.
 */
export class SensorClient {
  state: ClientState;
  /** Datagrams dropped: malformed, not from the gateway, or unexpected in the current state. */
  dropped: number;
  /** The gateway in use, -1 for the configured one or none. */
  gwId: number;

  // Shared with the full client; not part of the API.

  now: number;
  readonly transport: Transport;
  readonly handler: ClientHandler;
  readonly options: ClientOptions;
  readonly tx: Bytes;
  /** Octets of each buffer: the largest message the client sends. */
  readonly size: number;

  readonly slotBuf: Bytes[];
  /** 0 = free; else the request awaiting its answer: PUBLISH, PUBREL, REGISTER, SUBSCRIBE, UNSUBSCRIBE, WILLTOPICUPD, WILLMSGUPD. */
  readonly slotType: number[];
  readonly slotMsgId: number[];
  /** When the request is sent again; -1 while a PUBLISH waits for the REGACK of its topic. */
  readonly slotDue: number[];
  readonly slotRetries: number[];
  /** Topic table entry the exchange needs (the entry is kept while it does), or -1. */
  readonly slotTopic: number[];
  /** The QoS of a PUBLISH or SUBSCRIBE; for a REGISTER 1 when done() reports its REGACK. */
  readonly slotQos: number[];

  /** Topic table (§6.5, §6.10): "" = free entry; id 0 = REGISTER sent, no id yet. */
  readonly topicName: string[];
  readonly topicIds: number[];
  /** When each entry was last used: the least recently used one is replaced when the table is full. */
  readonly topicUsed: number[];
  topicClock: number;
  /** Incoming QoS 2 MsgIds awaiting PUBREL (full client; none in the sensor profile); 0 = free. */
  qos2Ids?: number[];

  /** The connection-level request awaiting an answer: CONNECT, PINGREQ, DISCONNECT, or 0. */
  controlType: number;
  /** Sends of the request after the first; while Searching, the SEARCHGWs sent. */
  controlRetries: number;
  lastSent: number;
  /**
   * When the selected gateway is lost for want of ADVERTISEs (§6.1); 0 when they are not watched:
   * always in the sensor profile, where only the full client's other() sets it. Not set at all in a
   * sensor-profile bundle (HAS_FULL false), which never reads it.
   */
  advertiseDue!: number;
  /**
   * When the request is sent again; without one, the next SEARCHGW (Searching), wake-up (Asleep) or
   * restart (Lost): those states have no request.
   */
  stateDue: number;
  sleepDuration: number;
  nextId: number;
  /** publish() or publishId() returned Busy: tick() calls handler.ready() once the transport is free. */
  sendWaiting: boolean;
  /** Set by publish() for publishId(): the topic name to publish to, else undefined. */
  waitingName: string | undefined;

  /**
   * The CONNECT (§5.4.4), WILLTOPIC (§5.4.7) and WILLMSG (§5.4.9) that options call for must fit the
   * buffers, measured in UTF-8 octets: the constructor throws when one does not (a programmer error;
   * a truncated CONNECT would never be answered).
   */
  constructor(transport: Transport, handler: ClientHandler, buffers: ClientBuffers, options: ClientOptions) {
    // The sensor profile sends messages of at most 255 octets, in the 1-octet Length form (§5.2.1):
    // a larger buffer is used up to that.
    const size = (HAS_FULL && this.other) || buffers.size < 255 ? buffers.size : 255;
    // CONNECT: Flags, ProtocolId, Duration (4), ClientId. WILLTOPIC: Flags (1), WillTopic.
    if (
      messageLength(4, options.clientId) > size ||
      messageLength(1, options.willTopic) > size ||
      messageLength(options.willMessageLength, "") > size
    ) {
      throw new Error("clientId/will do not fit " + size);
    }
    this.transport = transport;
    this.handler = handler;
    this.options = options;
    this.tx = buffers.tx;
    this.size = size;
    this.gwId = -1;
    this.slotBuf = buffers.inflight;
    this.slotType = this.slotBuf.map(() => 0);
    this.slotMsgId = this.slotType.slice();
    this.slotDue = this.slotType.slice();
    this.slotRetries = this.slotType.slice();
    this.slotQos = this.slotType.slice();
    this.slotTopic = this.slotBuf.map(() => -1);
    this.topicName = [];
    this.topicIds = [];
    this.topicUsed = [];
    // Disconnected is 0.
    this.state = this.dropped = this.now = this.topicClock = this.controlType = this.controlRetries = 0;
    this.lastSent = this.stateDue = this.sleepDuration = this.nextId = 0;
    if (HAS_FULL) {
      this.advertiseDue = 0;
    }
    this.sendWaiting = false;
  }

  /** Starts (or restarts) the session: gateway discovery (§6.1) or CONNECT to the configured gateway. */
  start(now: number): void {
    const o = this.options;
    this.now = now;
    this.gwId = -1;
    if (HAS_FULL) {
      this.advertiseDue = 0;
    }
    if (o.searchGateway) {
      // No connection-level request while Searching: its count counts the SEARCHGWs.
      this.controlRetries = this.controlType = 0;
      // §6.1: a random delay before SEARCHGW keeps clients woken together from broadcasting together.
      this.stateDue = now + Math.floor(o.random() * o.searchDelay);
      this.setState(ClientState.Searching);
    } else {
      this.transport.selectGateway(-1);
      this.control(MsgType.Connect);
    }
  }

  /** Advances time: retransmissions (§6.13), keep-alive (§6.15), discovery, sleep and reconnection. */
  tick(now: number): void {
    const o = this.options;
    const state = this.state;
    this.now = now;
    if (now >= this.stateDue) {
      if (state === ClientState.Searching) {
        // The full client falls back to the configured gateway; the sensor profile searches on.
        if (HAS_FULL && this.other && o.hasConfiguredGateway && this.controlRetries >= o.maxRetries) {
          this.transport.selectGateway(-1);
          this.control(MsgType.Connect);
        } else {
          this.controlRetries++;
          this.stateDue = now + o.retryInterval;
          // §5.4.2: SEARCHGW carries the radius.
          this.tx[frame(this.tx, MsgType.SearchGw, 1)] = o.radius;
          this.transport.broadcast(this.tx, 3, o.radius);
        }
      } else if (state === ClientState.Lost) {
        this.start(now);
      } else if (state === ClientState.Asleep) {
        // §6.14: a sleeping client wakes with PINGREQ to take the messages the gateway buffered.
        this.setState(ClientState.Awake);
        this.control(MsgType.PingReq);
      }
    }
    const current = this.state;
    if (
      HAS_FULL &&
      this.advertiseDue > 0 &&
      now > this.advertiseDue &&
      (current === ClientState.Active || current === ClientState.Connecting || current === ClientState.Awake)
    ) {
      // §6.1: N_ADV ADVERTISEs missed: the gateway is gone.
      this.setState(ClientState.Lost);
      return;
    }
    if (this.controlType !== 0 && now >= this.stateDue) {
      if (this.controlRetries >= o.maxRetries) {
        this.setState(current === ClientState.Disconnecting ? ClientState.Disconnected : ClientState.Lost);
        return;
      }
      const retries = this.controlRetries + 1;
      this.control(this.controlType);
      this.controlRetries = retries;
    }
    for (let s = 0; s < this.slotType.length; s++) {
      const due = this.slotDue[s] as number;
      if (this.slotType[s] !== 0 && due >= 0 && now >= due) {
        if ((this.slotRetries[s] as number) >= o.maxRetries) {
          // §6.13: N_RETRY retransmissions unanswered: the gateway is lost.
          this.setState(ClientState.Lost);
          return;
        }
        const type = this.slotType[s];
        const buf = this.slotBuf[s] as Bytes;
        const f = HAS_FULL && buf[0] === 0x01 ? 4 : 2;
        if (((HAS_FULL && type === MsgType.Subscribe) || type === MsgType.Publish) && (buf[f] as number) < 0x80) {
          // §6.13: a retransmitted PUBLISH or SUBSCRIBE carries DUP.
          buf[f] = (buf[f] as number) + 0x80;
        }
        this.slotRetries[s] = (this.slotRetries[s] as number) + 1;
        this.transmit(s);
      }
    }
    if (
      this.state === ClientState.Active &&
      o.keepAlive > 0 &&
      this.controlType === 0 &&
      now - this.lastSent >= o.keepAlive * 1000
    ) {
      this.control(MsgType.PingReq);
    }
    if (this.sendWaiting && !(this.transport.busy && this.transport.busy())) {
      this.sendWaiting = false;
      if (this.handler.ready) {
        this.handler.ready();
      }
    }
  }

  /**
   * Enters a state with what it takes. Every state but Asleep, Awake and Disconnecting begins a new
   * session or ends one: every open exchange is given up and every topic id and incoming QoS 2 id
   * forgotten. Active (CONNACK), Lost (the gateway stopped answering, §6.13, §6.1: start again after
   * reconnectDelay) and Disconnected also end the connection-level request; Asleep ends it and sets
   * the wake-up (§6.14). The handler hears of a change only.
   */
  setState(state: ClientState): void {
    if (state !== ClientState.Asleep && state !== ClientState.Awake && state !== ClientState.Disconnecting) {
      for (let s = 0; s < this.slotType.length; s++) {
        if (this.slotType[s] !== 0) {
          this.finish(s, -1, 0);
        }
      }
      this.topicName.fill("");
      if (HAS_FULL) {
        for (let i = 0; this.qos2Ids && i < this.qos2Ids.length; i++) {
          this.qos2Ids[i] = 0;
        }
      }
    }
    if (
      state === ClientState.Active ||
      state === ClientState.Lost ||
      state === ClientState.Disconnected ||
      state === ClientState.Asleep
    ) {
      this.controlType = 0;
    }
    if (HAS_FULL && (state === ClientState.Lost || state === ClientState.Asleep)) {
      // A sleeping client hears no ADVERTISE: the watch starts again with the next one.
      this.advertiseDue = 0;
    }
    if (state === ClientState.Lost) {
      this.stateDue = this.now + this.options.reconnectDelay;
    }
    if (state === ClientState.Asleep) {
      this.stateDue = this.now + this.sleepDuration * 1000;
    }
    if (this.state !== state) {
      this.state = state;
      this.handler.stateChanged(state);
    }
  }

  /** Sends the connection-level request `type` (CONNECT also enters Connecting) and arms its retry. */
  control(type: number): void {
    const o = this.options;
    const tx = this.tx;
    if (type === MsgType.Connect) {
      this.sleepDuration = 0;
      this.setState(ClientState.Connecting);
    }
    this.controlType = type;
    this.controlRetries = 0;
    this.stateDue = this.now + o.retryInterval;
    if (type === MsgType.Connect) {
      // §5.4.4: Flags (Will, CleanSession), ProtocolId, Duration, ClientId.
      const b = frame(tx, type, 4 + utf8Length(o.clientId));
      tx[b] = (o.willTopic !== "" ? 0x08 : 0) + (o.cleanSession ? 0x04 : 0);
      tx[b + 1] = 0x01;
      writeUtf8(o.clientId, tx, put16(tx, b + 2, o.keepAlive));
    } else if (type === MsgType.PingReq) {
      // §6.14: a waking client names itself in PINGREQ.
      const name = this.state === ClientState.Awake ? o.clientId : "";
      writeUtf8(name, tx, frame(tx, type, utf8Length(name)));
    } else if (this.sleepDuration > 0) {
      // §5.4.21: DISCONNECT with a Duration asks to sleep.
      put16(tx, frame(tx, type, 2), this.sleepDuration);
    } else {
      frame(tx, type, 0);
    }
    this.transmit(-1);
  }

  /**
   * Sends slot s and arms its retransmission (§6.13), or with s = -1 the message in tx. A message's
   * octets are its Length field's (§5.2.1): a Length of 0x01 announces the 3-octet form.
   */
  transmit(s: number): void {
    const buf = s < 0 ? this.tx : (this.slotBuf[s] as Bytes);
    if (s >= 0) {
      this.slotDue[s] = this.now + this.options.retryInterval;
    }
    this.lastSent = this.now;
    this.transport.send(buf, HAS_FULL && buf[0] === 0x01 ? read16(buf, 1) : (buf[0] as number));
  }

  /**
   * A free slot for a request of `octets` octets while Active, claimed for `type` with a new MsgId
   * (1..65535, skipping ids still open: §5.3.9), or MsgId 0 for a will update and a QoS 0 PUBLISH;
   * -1 when there is none.
   */
  openSlot(type: number, octets: number, topic: number, qos: number): number {
    const free = this.findSlot(0, -1);
    if (this.state !== ClientState.Active || octets > this.size || free < 0) {
      return -1;
    }
    const msgId = !(
      (HAS_FULL && (type === MsgType.WillTopicUpd || type === MsgType.WillMsgUpd)) ||
      (type === MsgType.Publish && qos === 0)
    );
    let id = 0;
    while (msgId && id === 0) {
      id = this.nextId = (this.nextId % 65535) + 1;
      if (this.findSlot(-1, id) >= 0) {
        id = 0;
      }
    }
    this.slotType[free] = type;
    this.slotMsgId[free] = id;
    this.slotTopic[free] = topic;
    this.slotQos[free] = qos;
    this.slotRetries[free] = 0;
    return free;
  }

  /** The first open slot of this type (any type: -1; a free slot: 0) and MsgId (any: -1), or -1. */
  findSlot(type: number, msgId: number): number {
    for (let s = 0; s < this.slotType.length; s++) {
      const t = this.slotType[s] as number;
      if ((type < 0 ? t !== 0 : t === type) && (msgId < 0 || this.slotMsgId[s] === msgId)) {
        return s;
      }
    }
    return -1;
  }

  /**
   * Ends slot s (when it is open: else the answer was unexpected) and tells the application, except
   * of a REGISTER the application did not ask for and of a QoS 0 PUBLISH sent or given up (a refused
   * REGISTER fails the QoS 0 PUBLISH waiting for it aloud). PUBCOMP reports as its PUBLISH;
   * returnCode -1 means given up.
   */
  finish(s: number, returnCode: number, topicId: number): void {
    if (s < 0) {
      this.dropped++;
      return;
    }
    const type = this.slotType[s] as number;
    this.slotType[s] = 0;
    this.slotTopic[s] = -1;
    if (this.slotQos[s] !== 0 || !(type === MsgType.Register || (type === MsgType.Publish && returnCode <= 0))) {
      this.handler.done(
        HAS_FULL && type === MsgType.PubRel ? MsgType.Publish : type,
        this.slotMsgId[s] as number,
        returnCode,
        topicId,
      );
    }
  }

  /**
   * The entry of a name (marked as used). When there is none and id >= 0, a new entry with that id:
   * a free one, else a new one while the table is below options.maxTopics, else the least recently
   * used registered entry no open exchange needs. -1 when there is none (or no room: every entry is
   * registering or needed).
   */
  findTopic(name: string, id: number): number {
    const names = this.topicName;
    let t = name === "" ? -1 : names.indexOf(name);
    if (t < 0 && id >= 0) {
      t = names.indexOf("");
      if (t < 0 && names.length < this.options.maxTopics) {
        t = names.length;
      }
      const full = t < 0;
      for (let i = 0; full && i < names.length; i++) {
        if (
          (this.topicIds[i] as number) > 0 &&
          this.slotTopic.indexOf(i) < 0 &&
          (t < 0 || (this.topicUsed[i] as number) < (this.topicUsed[t] as number))
        ) {
          t = i;
        }
      }
      if (t >= 0) {
        names[t] = name;
        this.topicIds[t] = id;
      }
    }
    if (t >= 0) {
      this.topicUsed[t] = ++this.topicClock;
    }
    return t;
  }

  // The sensor's API.

  /**
   * The full client's handler of the messages this profile does not take (the body starts at b, the
   * message ends at end); false drops the message. Absent in the sensor profile.
   */
  other?(type: number, buf: Bytes, b: number, end: number): boolean;

  /** From Asleep or Awake back to Active with a CONNECT (§6.14). Returns false in other states. */
  connect(): boolean {
    // Asleep and Awake are 4 and 5.
    if (this.state < ClientState.Asleep || this.state > ClientState.Awake) {
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
   * REGISTER a topic name ahead of publishing (§6.5, §5.4.10: TopicId 0, MsgId, TopicName), in a new
   * topic entry and slot. Returns the MsgId (done() reports the REGACK with the topic id), 0 when the
   * name is already registered, or -1 when refused as publish(). quiet (publish() only): done() does
   * not report the REGACK.
   */
  register(topicName: string, quiet?: boolean): number {
    if (this.findTopic(topicName, -1) >= 0) {
      return 0;
    }
    const r = this.openSlot(
      MsgType.Register,
      topicName === "" ? this.size + 1 : messageLength(4, topicName),
      -1,
      quiet ? 0 : 1,
    );
    if (r < 0) {
      return -1;
    }
    const t = this.findTopic(topicName, 0);
    if (t < 0) {
      this.slotType[r] = 0;
      return -1;
    }
    this.slotTopic[r] = t;
    const buf = this.slotBuf[r] as Bytes;
    const b = frame(buf, MsgType.Register, 4 + utf8Length(topicName));
    put16(buf, b, 0);
    writeUtf8(topicName, buf, put16(buf, b + 2, this.slotMsgId[r] as number));
    this.transmit(r);
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
    this.waitingName = topicName;
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
    // Set by publish(): the topic name, whose id replaces topicId.
    const name = this.waitingName;
    this.waitingName = undefined;
    // The topic entry whose REGACK the PUBLISH waits for in its slot, or -1.
    let waiting = -1;
    if (
      // §5.4.12: 7 octets and the data, 9 in the 3-octet Length form.
      length + (HAS_FULL && length > 248 ? 9 : 7) > this.size ||
      qos > (HAS_FULL && this.other ? 2 : 1) ||
      ((qos < 0 || this.state !== ClientState.Active) && !(qos === -1 && topicIdType !== TopicIdType.Normal))
    ) {
      return PublishResult.Refused;
    }
    if (this.transport.busy && this.transport.busy()) {
      // Backpressure: tick() calls handler.ready() once the transport is free.
      this.sendWaiting = true;
      return PublishResult.Busy;
    }
    if (name !== undefined) {
      const t = this.findTopic(name, -1);
      topicId = t < 0 ? 0 : (this.topicIds[t] as number);
      if (topicId === 0) {
        // A REGISTER to send takes a slot and the PUBLISH behind it a second one (0 marks a free slot).
        const free = this.slotType.indexOf(0);
        if (t < 0 && (this.slotType.indexOf(0, free + 1) < 0 || this.register(name, true) < 0)) {
          return PublishResult.Refused;
        }
        waiting = this.findTopic(name, -1);
      }
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
    put16(buf, put16(buf, b + 1, topicId), msgId);
    for (let i = 0; i < length; i++) {
      buf[b + 5 + i] = data[offset + i] as number;
    }
    if (waiting >= 0) {
      this.slotDue[s] = -1;
    } else {
      this.transmit(s);
    }
    return msgId;
  }

  /**
   * One datagram from the network. fromGateway: the adapter saw it come from the selected gateway;
   * anything else is taken only when it is an ADVERTISE or GWINFO. Never throws on bad input: a
   * malformed datagram is counted in dropped.
   */
  receive(buf: Bytes, length: number, fromGateway: boolean): void {
    // §5.2.1: a Length of 0x01 announces the 3-octet form. A sensor-profile bundle drops it (a
    // gateway sends a sensor nothing that long).
    const b = HAS_FULL && length >= 4 && buf[0] === 0x01 ? 4 : 2;
    const type = length >= b ? (buf[b - 1] as number) : -1;
    // Each branch below takes a message of the body length §5.4 gives its type (after Length and
    // MsgType); whatever else arrives (a type only clients send, a reserved type, a wrong length, a
    // message unexpected in the state) is dropped, or is the full client's to check in other().
    // Few locals here: they live while the handler's callbacks run.
    const body = length - b;
    if (
      (b === 4 ? read16(buf, 1) : buf[0]) !== length ||
      // Only an ADVERTISE or a GWINFO is taken from another sender than the selected gateway.
      (!fromGateway && type !== MsgType.Advertise && type !== MsgType.GwInfo)
    ) {
      this.dropped++;
      return;
    }
    const state = this.state;
    if ((type === MsgType.Advertise && body === 3) || (type === MsgType.GwInfo && body >= 1)) {
      // §6.1: only one heard while Searching selects a gateway. The full client also watches the
      // selected gateway's ADVERTISEs (other()); the sensor profile finds a lost gateway by its
      // unanswered requests (keep-alive, §6.13).
      if (state === ClientState.Searching) {
        this.transport.selectGateway((this.gwId = buf[b] as number));
        this.control(MsgType.Connect);
      }
      if (HAS_FULL && this.other && (fromGateway || state === ClientState.Searching)) {
        this.other(type, buf, b, length);
      }
    } else if (type === MsgType.ConnAck && body === 1 && state === ClientState.Connecting) {
      // Congestion or refusal (§5.3.10): try again after reconnectDelay.
      this.setState(buf[b] === ReturnCode.Accepted ? ClientState.Active : ClientState.Lost);
    } else if (
      (type === MsgType.WillTopicReq || type === MsgType.WillMsgReq) &&
      body === 0 &&
      state === ClientState.Connecting
    ) {
      // §6.3: the will handshake answers WILLTOPICREQ with WILLTOPIC (§5.4.7: Flags, WillTopic) and
      // WILLMSGREQ with WILLMSG (§5.4.9), each the MsgType after its request; CONNECT's timer covers it all.
      const o = this.options;
      const tx = this.tx;
      const will = o.willTopic;
      const topic = type === MsgType.WillTopicReq;
      const b = frame(tx, type + 1, !topic ? o.willMessageLength : will === "" ? 0 : 1 + utf8Length(will));
      if (topic && will !== "") {
        tx[b] = (o.willQos < 0 ? 0x60 : o.willQos * 0x20) + (o.willRetain ? 0x10 : 0);
        writeUtf8(will, tx, b + 1);
      }
      for (let i = 0; !topic && i < o.willMessageLength; i++) {
        tx[b + i] = o.willMessage[i] as number;
      }
      this.stateDue = this.now + o.retryInterval;
      this.transmit(-1);
    } else if ((type === MsgType.RegAck || type === MsgType.PubAck) && body === 5) {
      // The answer to a REGISTER (§6.5) or a PUBLISH, whose MsgType is one less: TopicId, MsgId,
      // ReturnCode. The PUBLISHes waiting for a REGISTER's id go out (or fail) with its REGACK.
      const s = this.findSlot(type - 1, read16(buf, b + 2));
      const t = s < 0 ? -1 : (this.slotTopic[s] as number);
      const topicId = read16(buf, b);
      const returnCode = buf[b + 4] as number;
      if (type === MsgType.RegAck && t >= 0) {
        // A refused REGISTER's entry is freed below.
        this.topicIds[t] = topicId;
      }
      for (let p = 0; type === MsgType.RegAck && t >= 0 && p < this.slotType.length; p++) {
        // Only a PUBLISH waiting for a REGACK has the due time -1 (a free slot has no topic entry).
        if (this.slotDue[p] === -1 && this.slotTopic[p] === t) {
          if (returnCode !== ReturnCode.Accepted) {
            this.finish(p, returnCode, 0);
          } else {
            const pub = this.slotBuf[p] as Bytes;
            put16(pub, (HAS_FULL && pub[0] === 0x01 ? 4 : 2) + 1, topicId);
            this.transmit(p);
            if (this.slotQos[p] === 0) {
              this.finish(p, 0, 0);
            }
          }
        }
      }
      this.finish(s, returnCode, topicId);
      if (
        t >= 0 &&
        (type === MsgType.RegAck ? returnCode !== ReturnCode.Accepted : returnCode === ReturnCode.InvalidTopicId) &&
        this.slotTopic.indexOf(t) < 0
      ) {
        // A refused REGISTER; or §6.7: the gateway no longer knows the id. The next publish registers again.
        this.topicName[t] = "";
      }
    } else if (type === MsgType.PingResp && body === 0 && this.controlType === MsgType.PingReq) {
      this.controlType = 0;
      if (state === ClientState.Awake) {
        // §6.14: PINGRESP ends the awake window: back to sleep for another duration.
        this.setState(ClientState.Asleep);
      }
    } else if (type === MsgType.Disconnect && (body === 0 || body === 2)) {
      // The gateway ended the session on its own: start again. Else the answer to ours: ended or asleep.
      if (this.controlType !== MsgType.Disconnect) {
        this.setState(ClientState.Lost);
      } else {
        this.setState(state === ClientState.Disconnecting ? ClientState.Disconnected : ClientState.Asleep);
      }
    } else if (!(HAS_FULL && this.other && this.other(type, buf, b, length))) {
      this.dropped++;
    }
  }
}
