import {
  decode,
  encode,
  MsgType,
  ReturnCode,
  TopicIdType,
  type Bytes,
  type Connect,
  type DecodeOptions,
  type Disconnect,
  type PingReq,
  type PubAck,
  type PubFlow,
  type Publish,
  type QoS,
  type RegAck,
  type Register,
  type SearchGw,
  type Subscribe,
  type Unsubscribe,
  type WillMsg,
  type WillTopic,
} from "../../protocol/index";
import { TopicEntry, TopicTable } from "./topic-table";
import { ClientState, type ClientBuffers, type ClientHandler, type ClientOptions, type Transport } from "./types";

/** The flags octet of a message encoded at offset 0: after a 1- or 3-octet Length and MsgType. */
function flagsOffset(buf: Bytes): number {
  return buf[0] === 0x01 ? 4 : 2;
}

/**
 * An MQTT-SN v1.2 client for one gateway. The platform hands in a transport, a handler and buffers,
 * calls receive() with every datagram and tick() with the time in milliseconds; the client has no
 * timers of its own and, after construction, allocates nothing per message (a REGISTER from the
 * gateway brings a new topic name string).
 *
 * Bounds: buffers.inflight.length exchanges awaiting an answer at once, options.maxTopics topic
 * names, options.maxIncomingQos2 incoming QoS 2 ids. When full, publish/subscribe/unsubscribe and
 * the will updates return -1 and send nothing; the application retries after a done() callback.
 */
export class MqttSnClient {
  state: ClientState;
  /** Datagrams dropped: malformed, not from the gateway, or unexpected in the current state. */
  dropped: number;
  /** The gateway in use, -1 for the configured one or none. */
  gwId: number;
  readonly topics: TopicTable;

  private now: number;
  private readonly transport: Transport;
  private readonly handler: ClientHandler;
  private readonly options: ClientOptions;
  private readonly tx: Bytes;
  private readonly size: number;
  private readonly decodeOptions: DecodeOptions;

  private readonly slotBuf: Bytes[];
  /** 0 = free; else the request awaiting its answer: PUBLISH, PUBREL, REGISTER, SUBSCRIBE, UNSUBSCRIBE, WILLTOPICUPD, WILLMSGUPD. */
  private readonly slotType: number[];
  private readonly slotMsgId: number[];
  private readonly slotLength: number[];
  private readonly slotDeadline: number[];
  private readonly slotRetries: number[];
  /** Topic table entry the exchange needs (pinned), or -1. */
  private readonly slotTopic: number[];
  private readonly slotQos: number[];
  /** 1 while a PUBLISH waits for the REGACK of its topic. */
  private readonly slotWaiting: number[];
  /** The topic name of a SUBSCRIBE, to keep the id its SUBACK returns. */
  private readonly slotName: string[];
  private readonly slots: number;

  /** The connection-level request awaiting an answer: CONNECT, PINGREQ, DISCONNECT, or 0. */
  private controlType: number;
  private controlDeadline: number;
  private controlRetries: number;
  private lastSent: number;
  /** 0 when the gateway's ADVERTISEs are not tracked. */
  private advertiseDeadline: number;
  /** Next SEARCHGW (Searching), wake-up (Asleep) or restart (Lost). */
  private stateDeadline: number;
  private sleepDuration: number;
  private searches: number;
  private nextId: number;
  private readonly qos2Ids: number[];

  private readonly mPublish: Publish;
  private readonly mRegister: Register;
  private readonly mRegAck: RegAck;
  private readonly mPubAck: PubAck;
  private readonly mFlow: PubFlow;
  private readonly mSubscribe: Subscribe;
  private readonly mUnsubscribe: Unsubscribe;
  private readonly mConnect: Connect;
  private readonly mWillTopic: WillTopic;
  private readonly mWillMsg: WillMsg;
  private readonly mPingReq: PingReq;
  private readonly mDisconnect: Disconnect;
  private readonly mSearchGw: SearchGw;

  constructor(transport: Transport, handler: ClientHandler, buffers: ClientBuffers, options: ClientOptions) {
    this.transport = transport;
    this.handler = handler;
    this.options = options;
    this.tx = buffers.tx;
    this.size = buffers.size;
    this.state = ClientState.Disconnected;
    this.dropped = 0;
    this.gwId = -1;
    this.now = 0;
    this.topics = new TopicTable(options.maxTopics);
    this.decodeOptions = { into: {} };
    this.slotBuf = buffers.inflight;
    this.slots = buffers.inflight.length;
    this.slotType = [];
    this.slotMsgId = [];
    this.slotLength = [];
    this.slotDeadline = [];
    this.slotRetries = [];
    this.slotTopic = [];
    this.slotQos = [];
    this.slotWaiting = [];
    this.slotName = [];
    for (let i = 0; i < this.slots; i++) {
      this.slotType.push(0);
      this.slotMsgId.push(0);
      this.slotLength.push(0);
      this.slotDeadline.push(0);
      this.slotRetries.push(0);
      this.slotTopic.push(-1);
      this.slotQos.push(0);
      this.slotWaiting.push(0);
      this.slotName.push("");
    }
    this.qos2Ids = [];
    for (let i = 0; i < options.maxIncomingQos2; i++) {
      this.qos2Ids.push(0);
    }
    this.controlType = 0;
    this.controlDeadline = 0;
    this.controlRetries = 0;
    this.lastSent = 0;
    this.advertiseDeadline = 0;
    this.stateDeadline = 0;
    this.sleepDuration = 0;
    this.searches = 0;
    this.nextId = 0;
    this.mPublish = { type: MsgType.Publish, dup: false, qos: 0, retain: false, topicIdType: TopicIdType.Normal, topicId: 0, msgId: 0, data: buffers.tx, dataOffset: 0, dataLength: 0 };
    this.mRegister = { type: MsgType.Register, topicId: 0, msgId: 0, topicName: "" };
    this.mRegAck = { type: MsgType.RegAck, topicId: 0, msgId: 0, returnCode: ReturnCode.Accepted };
    this.mPubAck = { type: MsgType.PubAck, topicId: 0, msgId: 0, returnCode: ReturnCode.Accepted };
    this.mFlow = { type: MsgType.PubRel, msgId: 0 };
    this.mSubscribe = { type: MsgType.Subscribe, dup: false, qos: 0, topicIdType: TopicIdType.Normal, msgId: 0, topicName: "", topicId: 0 };
    this.mUnsubscribe = { type: MsgType.Unsubscribe, topicIdType: TopicIdType.Normal, msgId: 0, topicName: "", topicId: 0 };
    this.mConnect = { type: MsgType.Connect, will: false, cleanSession: true, duration: 0, clientId: options.clientId };
    this.mWillTopic = { type: MsgType.WillTopic, qos: 0, retain: false, willTopic: "" };
    this.mWillMsg = { type: MsgType.WillMsg, willMsg: buffers.tx, willMsgOffset: 0, willMsgLength: 0 };
    this.mPingReq = { type: MsgType.PingReq, clientId: undefined };
    this.mDisconnect = { type: MsgType.Disconnect, duration: undefined };
    this.mSearchGw = { type: MsgType.SearchGw, radius: options.radius };
  }

  /** Starts (or restarts) the session: gateway discovery (§6.1) or CONNECT to the configured gateway. */
  start(now: number): void {
    this.now = now;
    this.failAll();
    this.controlType = 0;
    if (this.options.searchGateway) {
      this.gwId = -1;
      this.advertiseDeadline = 0;
      this.searches = 0;
      // §6.1: a random delay before SEARCHGW keeps clients woken together from broadcasting together.
      this.stateDeadline = now + Math.floor(this.options.random() * this.options.searchDelay);
      this.setState(ClientState.Searching);
    } else {
      this.gwId = -1;
      this.transport.selectGateway(-1);
      this.connectNow();
    }
  }

  /** From Asleep or Awake back to Active with a CONNECT (§6.14). Returns false in other states. */
  connect(): boolean {
    if (this.state !== ClientState.Asleep && this.state !== ClientState.Awake) {
      return false;
    }
    this.connectNow();
    return true;
  }

  /** Ends the session with DISCONNECT (§6.6); every open exchange is given up. */
  disconnect(): boolean {
    if (this.state === ClientState.Disconnected || this.state === ClientState.Disconnecting) {
      return false;
    }
    if (this.state === ClientState.Searching || this.state === ClientState.Lost) {
      this.failAll();
      this.setState(ClientState.Disconnected);
      return true;
    }
    this.sleepDuration = 0;
    this.setState(ClientState.Disconnecting);
    this.sendControl(MsgType.Disconnect);
    return true;
  }

  /**
   * DISCONNECT with a duration (§6.14): once the gateway answers, the client is Asleep; every
   * `duration` seconds it wakes with PINGREQ, takes the buffered messages and sleeps again on
   * PINGRESP. Refused (false) unless Active with no exchange open.
   */
  sleep(duration: number): boolean {
    if (this.state !== ClientState.Active || this.controlType !== 0 || this.busySlots() > 0 || duration < 1) {
      return false;
    }
    this.sleepDuration = duration;
    this.sendControl(MsgType.Disconnect);
    return true;
  }

  /**
   * PUBLISH to a topic name, registering it first when the client has no id for it (§6.10).
   * Returns the MsgId (0 for QoS 0), or -1 when refused: not Active, QoS -1 (needs a predefined or
   * short topic), message too large for the buffers, in-flight or topic table full.
   */
  publish(topicName: string, data: Bytes, offset: number, length: number, qos: QoS, retain: boolean): number {
    if (this.state !== ClientState.Active || qos === -1 || topicName === "" || length + 9 > this.size || topicName.length + 10 > this.size) {
      return -1;
    }
    let t = this.topics.findName(topicName);
    if (t >= 0 && this.topics.states[t] === TopicEntry.Registered) {
      return this.publishNow(TopicIdType.Normal, this.topics.ids[t] as number, t, data, offset, length, qos, retain);
    }
    const free = this.slots - this.busySlots();
    if (free < (t < 0 ? 2 : 1)) {
      return -1;
    }
    if (t < 0) {
      t = this.topics.insert(topicName, 0, TopicEntry.Registering);
      if (t < 0) {
        return -1;
      }
      const r = this.freeSlot();
      this.mRegister.topicId = 0;
      this.mRegister.msgId = this.newMsgId();
      this.mRegister.topicName = topicName;
      this.slotLength[r] = encode(this.mRegister, this.slotBuf[r] as Bytes, 0);
      this.open(r, MsgType.Register, this.mRegister.msgId, t, 0);
      this.sendSlot(r);
    }
    const s = this.freeSlot();
    const msgId = qos > 0 ? this.newMsgId() : 0;
    this.fillPublish(TopicIdType.Normal, 0, msgId, data, offset, length, qos, retain);
    this.slotLength[s] = encode(this.mPublish, this.slotBuf[s] as Bytes, 0);
    this.mPublish.data = this.tx;
    this.open(s, MsgType.Publish, msgId, t, qos);
    this.slotWaiting[s] = 1;
    return msgId;
  }

  /**
   * REGISTER a topic name ahead of publishing (§6.5). Returns the MsgId (done() reports the REGACK
   * with the topic id), 0 when the name is already registered, or -1 when refused as publish().
   */
  register(topicName: string): number {
    if (topicName === "") {
      return -1;
    }
    if (this.topics.findName(topicName) >= 0) {
      return 0;
    }
    const r = this.requestSlot(topicName.length + 10);
    if (r < 0) {
      return -1;
    }
    const t = this.topics.insert(topicName, 0, TopicEntry.Registering);
    if (t < 0) {
      return -1;
    }
    this.mRegister.topicId = 0;
    this.mRegister.msgId = this.newMsgId();
    this.mRegister.topicName = topicName;
    this.slotLength[r] = encode(this.mRegister, this.slotBuf[r] as Bytes, 0);
    this.open(r, MsgType.Register, this.mRegister.msgId, t, 1);
    this.sendSlot(r);
    return this.mRegister.msgId;
  }

  /**
   * PUBLISH to a predefined topic id or a short topic name (shortTopicId("ab")), §3.3.2. QoS -1
   * (§6.8) is sent in any state, to the selected or configured gateway. Returns as publish().
   */
  publishId(topicIdType: TopicIdType, topicId: number, data: Bytes, offset: number, length: number, qos: QoS, retain: boolean): number {
    if (length + 9 > this.size || (qos !== -1 && this.state !== ClientState.Active)) {
      return -1;
    }
    if (qos === -1 && topicIdType === TopicIdType.Normal) {
      return -1;
    }
    return this.publishNow(topicIdType, topicId, -1, data, offset, length, qos, retain);
  }

  /** SUBSCRIBE to a topic name or filter (§6.9). Returns the MsgId, or -1 when refused as publish(). */
  subscribe(topicName: string, qos: QoS): number {
    this.mSubscribe.topicName = topicName;
    this.mSubscribe.topicId = 0;
    return this.subscribeNow(TopicIdType.Normal, qos, topicName);
  }

  /** SUBSCRIBE to a predefined id or a short topic name. */
  subscribeId(topicIdType: TopicIdType, topicId: number, qos: QoS): number {
    this.mSubscribe.topicName = "";
    this.mSubscribe.topicId = topicId;
    return this.subscribeNow(topicIdType, qos, "");
  }

  unsubscribe(topicName: string): number {
    this.mUnsubscribe.topicName = topicName;
    this.mUnsubscribe.topicId = 0;
    return this.unsubscribeNow(TopicIdType.Normal, topicName);
  }

  unsubscribeId(topicIdType: TopicIdType, topicId: number): number {
    this.mUnsubscribe.topicName = "";
    this.mUnsubscribe.topicId = topicId;
    return this.unsubscribeNow(topicIdType, "");
  }

  /** WILLTOPICUPD (§6.4); "" deletes the will. Returns 0, or -1 when refused. */
  updateWillTopic(willTopic: string, qos: QoS, retain: boolean): number {
    const s = this.requestSlot(willTopic.length + 5);
    if (s < 0) {
      return -1;
    }
    this.mWillTopic.type = MsgType.WillTopicUpd;
    this.mWillTopic.willTopic = willTopic;
    this.mWillTopic.qos = qos;
    this.mWillTopic.retain = retain;
    this.slotLength[s] = encode(this.mWillTopic, this.slotBuf[s] as Bytes, 0);
    this.open(s, MsgType.WillTopicUpd, 0, -1, 0);
    this.sendSlot(s);
    return 0;
  }

  /** WILLMSGUPD (§6.4). Returns 0, or -1 when refused. */
  updateWillMessage(data: Bytes, offset: number, length: number): number {
    const s = this.requestSlot(length + 4);
    if (s < 0) {
      return -1;
    }
    this.mWillMsg.type = MsgType.WillMsgUpd;
    this.mWillMsg.willMsg = data;
    this.mWillMsg.willMsgOffset = offset;
    this.mWillMsg.willMsgLength = length;
    this.slotLength[s] = encode(this.mWillMsg, this.slotBuf[s] as Bytes, 0);
    this.open(s, MsgType.WillMsgUpd, 0, -1, 0);
    this.mWillMsg.willMsg = this.tx;
    this.sendSlot(s);
    return 0;
  }

  /** Advances time: retransmissions (§6.13), keep-alive (§6.15), discovery, sleep and reconnection. */
  tick(now: number): void {
    this.now = now;
    const state = this.state;
    if (state === ClientState.Searching && now >= this.stateDeadline) {
      this.searchTick();
    } else if (state === ClientState.Lost && now >= this.stateDeadline) {
      this.start(now);
    } else if (state === ClientState.Asleep && now >= this.stateDeadline) {
      this.setState(ClientState.Awake);
      this.sendControl(MsgType.PingReq);
    }
    if (this.advertiseDeadline > 0 && now > this.advertiseDeadline && this.connected()) {
      // §6.1: N_ADV ADVERTISEs missed: the gateway is gone.
      this.lost();
      return;
    }
    if (this.controlType !== 0 && now >= this.controlDeadline) {
      if (this.controlRetries >= this.options.maxRetries) {
        this.controlFailed();
        return;
      }
      this.controlRetries++;
      this.controlDeadline = now + this.options.retryInterval;
      this.transmitControl();
    }
    for (let s = 0; s < this.slots; s++) {
      if (this.slotType[s] !== 0 && this.slotWaiting[s] === 0 && now >= (this.slotDeadline[s] as number)) {
        if ((this.slotRetries[s] as number) >= this.options.maxRetries) {
          // §6.13: N_RETRY retransmissions unanswered: the gateway is lost.
          this.lost();
          return;
        }
        this.retransmit(s);
      }
    }
    const keepAlive = this.options.keepAlive * 1000;
    if (this.state === ClientState.Active && keepAlive > 0 && this.controlType === 0 && now - this.lastSent >= keepAlive) {
      this.sendControl(MsgType.PingReq);
    }
  }

  /**
   * One datagram from the network. fromGateway: the adapter saw it come from the selected gateway;
   * anything else is taken only when it is an ADVERTISE or GWINFO. Never throws on bad input.
   */
  receive(buf: Bytes, length: number, fromGateway: boolean): void {
    const m = decode(buf, 0, length, this.decodeOptions);
    if (m.type === "error") {
      this.dropped++;
      return;
    }
    if (m.type === MsgType.Advertise) {
      this.onAdvertise(m.gwId, m.duration, fromGateway);
      return;
    }
    if (m.type === MsgType.GwInfo) {
      this.onGwInfo(m.gwId);
      return;
    }
    if (!fromGateway) {
      this.dropped++;
      return;
    }
    switch (m.type) {
      case MsgType.WillTopicReq:
      case MsgType.WillMsgReq:
        this.onWillRequest(m.type);
        return;
      case MsgType.ConnAck:
        this.onConnAck(m.returnCode);
        return;
      case MsgType.Register:
        this.onRegister(m.topicId, m.msgId, m.topicName);
        return;
      case MsgType.RegAck:
        this.onRegAck(m.topicId, m.msgId, m.returnCode);
        return;
      case MsgType.Publish:
        this.onPublish(m);
        return;
      case MsgType.PubAck:
        this.onPubAck(m.topicId, m.msgId, m.returnCode);
        return;
      case MsgType.PubRec:
        this.onPubRec(m.msgId);
        return;
      case MsgType.PubRel:
        this.onPubRel(m.msgId);
        return;
      case MsgType.PubComp:
        this.finish(this.findSlot(MsgType.PubRel, m.msgId), ReturnCode.Accepted, -1);
        return;
      case MsgType.SubAck:
        this.onSubAck(m.topicId, m.msgId, m.returnCode);
        return;
      case MsgType.UnsubAck:
        this.finish(this.findSlot(MsgType.Unsubscribe, m.msgId), ReturnCode.Accepted, 0);
        return;
      case MsgType.WillTopicResp:
        this.finish(this.findSlot(MsgType.WillTopicUpd, 0), m.returnCode, 0);
        return;
      case MsgType.WillMsgResp:
        this.finish(this.findSlot(MsgType.WillMsgUpd, 0), m.returnCode, 0);
        return;
      case MsgType.PingResp:
        this.onPingResp();
        return;
      case MsgType.Disconnect:
        this.onDisconnect();
        return;
      default:
        this.dropped++;
    }
  }

  private connected(): boolean {
    const s = this.state;
    return s === ClientState.Active || s === ClientState.Connecting || s === ClientState.Awake;
  }

  private setState(state: ClientState): void {
    if (this.state !== state) {
      this.state = state;
      this.handler.stateChanged(state);
    }
  }

  private connectNow(): void {
    this.sleepDuration = 0;
    this.setState(ClientState.Connecting);
    this.sendControl(MsgType.Connect);
  }

  private searchTick(): void {
    if (this.searches >= this.options.maxRetries && this.options.hasConfiguredGateway) {
      this.transport.selectGateway(-1);
      this.connectNow();
      return;
    }
    this.searches++;
    this.stateDeadline = this.now + this.options.retryInterval;
    this.mSearchGw.radius = this.options.radius;
    this.transport.broadcast(this.tx, encode(this.mSearchGw, this.tx, 0), this.options.radius);
  }

  private onAdvertise(gwId: number, duration: number, fromGateway: boolean): void {
    const deadline = this.now + duration * 1000 * this.options.advertiseMisses + this.options.retryInterval;
    if (this.state === ClientState.Searching) {
      this.gwId = gwId;
      this.transport.selectGateway(gwId);
      this.advertiseDeadline = deadline;
      this.connectNow();
    } else if (fromGateway && gwId === this.gwId) {
      this.advertiseDeadline = deadline;
    }
  }

  private onGwInfo(gwId: number): void {
    if (this.state !== ClientState.Searching) {
      return;
    }
    this.gwId = gwId;
    this.transport.selectGateway(gwId);
    this.advertiseDeadline = 0;
    this.connectNow();
  }

  /** §6.3: the will handshake answers WILLTOPICREQ and WILLMSGREQ; CONNECT's timer covers it all. */
  private onWillRequest(type: number): void {
    if (this.state !== ClientState.Connecting) {
      this.dropped++;
      return;
    }
    const o = this.options;
    let n: number;
    if (type === MsgType.WillTopicReq) {
      this.mWillTopic.type = MsgType.WillTopic;
      this.mWillTopic.willTopic = o.willTopic;
      this.mWillTopic.qos = o.willQos;
      this.mWillTopic.retain = o.willRetain;
      n = encode(this.mWillTopic, this.tx, 0);
    } else {
      this.mWillMsg.type = MsgType.WillMsg;
      this.mWillMsg.willMsg = o.willMessage;
      this.mWillMsg.willMsgOffset = 0;
      this.mWillMsg.willMsgLength = o.willMessageLength;
      n = encode(this.mWillMsg, this.tx, 0);
      this.mWillMsg.willMsg = this.tx;
    }
    this.controlDeadline = this.now + this.options.retryInterval;
    this.sendTx(n);
  }

  private onConnAck(returnCode: number): void {
    if (this.state !== ClientState.Connecting) {
      this.dropped++;
      return;
    }
    this.controlType = 0;
    if (returnCode !== ReturnCode.Accepted) {
      // Congestion or refusal (§5.3.10): try again after reconnectDelay.
      this.lost();
      return;
    }
    this.topics.clear();
    this.clearQos2();
    this.setState(ClientState.Active);
  }

  /** §6.10: the gateway names a topic id before publishing on it (wildcard subscriptions). */
  private onRegister(topicId: number, msgId: number, topicName: string): void {
    let t = this.topics.findName(topicName);
    if (t < 0) {
      t = this.topics.insert(topicName, topicId, TopicEntry.Registered);
    } else if (this.topics.states[t] === TopicEntry.Registered) {
      this.topics.ids[t] = topicId;
    }
    this.sendRegAck(topicId, msgId, t < 0 ? ReturnCode.Congestion : ReturnCode.Accepted);
  }

  private onRegAck(topicId: number, msgId: number, returnCode: number): void {
    const r = this.findSlot(MsgType.Register, msgId);
    if (r < 0) {
      this.dropped++;
      return;
    }
    const t = this.slotTopic[r] as number;
    const report = this.slotQos[r] === 1;
    this.release(r);
    const accepted = returnCode === ReturnCode.Accepted;
    if (accepted) {
      this.topics.ids[t] = topicId;
      this.topics.states[t] = TopicEntry.Registered;
    }
    for (let s = 0; s < this.slots; s++) {
      if (this.slotType[s] === MsgType.Publish && this.slotWaiting[s] === 1 && this.slotTopic[s] === t) {
        if (!accepted) {
          this.finish(s, returnCode, 0);
        } else {
          const buf = this.slotBuf[s] as Bytes;
          const o = flagsOffset(buf) + 1;
          buf[o] = Math.floor(topicId / 256);
          buf[o + 1] = topicId % 256;
          this.slotWaiting[s] = 0;
          this.sendSlot(s);
          if (this.slotQos[s] === 0) {
            this.release(s);
          }
        }
      }
    }
    if (!accepted) {
      this.topics.free(t);
    }
    if (report) {
      this.handler.done(MsgType.Register, msgId, returnCode, topicId);
    }
  }

  /** §6.7, §6.8: acknowledge first, then hand the message to the application. */
  private onPublish(m: Publish): void {
    let name = "";
    if (m.topicIdType === TopicIdType.Normal) {
      const t = this.topics.findId(m.topicId);
      if (t < 0) {
        // §6.7: an unknown topic id is answered with PUBACK "invalid topic id".
        this.sendPubAck(m.topicId, m.msgId, ReturnCode.InvalidTopicId);
        this.dropped++;
        return;
      }
      name = this.topics.names[t] as string;
    }
    if (m.qos === 1) {
      this.sendPubAck(m.topicId, m.msgId, ReturnCode.Accepted);
    } else if (m.qos === 2) {
      let free = -1;
      for (let i = 0; i < this.qos2Ids.length; i++) {
        if (this.qos2Ids[i] === m.msgId) {
          // §6.7: a duplicate QoS 2 PUBLISH is acknowledged again but delivered once.
          this.sendFlow(MsgType.PubRec, m.msgId);
          return;
        }
        if (free < 0 && this.qos2Ids[i] === 0) {
          free = i;
        }
      }
      if (free < 0) {
        // No room to remember the id: stay silent so that the gateway sends it again later.
        this.dropped++;
        return;
      }
      this.qos2Ids[free] = m.msgId;
      this.sendFlow(MsgType.PubRec, m.msgId);
    }
    this.handler.message(name, m.topicIdType, m.topicId, m.data, m.dataOffset, m.dataLength, m.qos, m.retain);
  }

  private onPubAck(topicId: number, msgId: number, returnCode: number): void {
    const s = this.findSlot(MsgType.Publish, msgId);
    if (s < 0) {
      this.dropped++;
      return;
    }
    const t = this.slotTopic[s] as number;
    if (returnCode === ReturnCode.InvalidTopicId && t >= 0) {
      // §6.7: the gateway no longer knows the id: forget it, the next publish registers again.
      this.topics.pins[t] = (this.topics.pins[t] as number) - 1;
      this.slotTopic[s] = -1;
      if (this.topics.pins[t] === 0) {
        this.topics.free(t);
      }
    }
    this.finish(s, returnCode, topicId);
  }

  private onPubRec(msgId: number): void {
    let s = this.findSlot(MsgType.Publish, msgId);
    if (s < 0) {
      s = this.findSlot(MsgType.PubRel, msgId);
    }
    if (s < 0 || this.slotQos[s] !== 2) {
      this.dropped++;
      return;
    }
    this.mFlow.type = MsgType.PubRel;
    this.mFlow.msgId = msgId;
    this.slotType[s] = MsgType.PubRel;
    this.slotRetries[s] = 0;
    this.slotDeadline[s] = this.now + this.options.retryInterval;
    this.slotLength[s] = encode(this.mFlow, this.slotBuf[s] as Bytes, 0);
    this.sendSlot(s);
  }

  private onPubRel(msgId: number): void {
    for (let i = 0; i < this.qos2Ids.length; i++) {
      if (this.qos2Ids[i] === msgId) {
        this.qos2Ids[i] = 0;
      }
    }
    this.sendFlow(MsgType.PubComp, msgId);
  }

  private onSubAck(topicId: number, msgId: number, returnCode: number): void {
    const s = this.findSlot(MsgType.Subscribe, msgId);
    if (s < 0) {
      this.dropped++;
      return;
    }
    const name = this.slotName[s] as string;
    if (returnCode === ReturnCode.Accepted && name !== "" && topicId !== 0 && this.topics.findName(name) < 0) {
      // §6.9: a name without wildcards comes back with its topic id; keep it for incoming PUBLISH.
      this.topics.insert(name, topicId, TopicEntry.Registered);
    }
    this.finish(s, returnCode, topicId);
  }

  private onPingResp(): void {
    if (this.controlType !== MsgType.PingReq) {
      this.dropped++;
      return;
    }
    this.controlType = 0;
    if (this.state === ClientState.Awake) {
      // §6.14: PINGRESP ends the awake window: back to sleep for another duration.
      this.stateDeadline = this.now + this.sleepDuration * 1000;
      this.setState(ClientState.Asleep);
    }
  }

  private onDisconnect(): void {
    if (this.controlType !== MsgType.Disconnect) {
      // The gateway ended the session on its own: start again.
      this.lost();
      return;
    }
    this.controlType = 0;
    if (this.state === ClientState.Disconnecting) {
      this.failAll();
      this.setState(ClientState.Disconnected);
    } else {
      this.stateDeadline = this.now + this.sleepDuration * 1000;
      this.setState(ClientState.Asleep);
    }
  }

  private controlFailed(): void {
    this.controlType = 0;
    if (this.state === ClientState.Disconnecting) {
      this.failAll();
      this.setState(ClientState.Disconnected);
    } else {
      this.lost();
    }
  }

  /** The gateway stopped answering (§6.13, §6.1): give up open exchanges, forget ids, start again later. */
  private lost(): void {
    this.failAll();
    this.controlType = 0;
    this.advertiseDeadline = 0;
    this.stateDeadline = this.now + this.options.reconnectDelay;
    this.setState(ClientState.Lost);
  }

  private sendControl(type: number): void {
    this.controlType = type;
    this.controlRetries = 0;
    this.controlDeadline = this.now + this.options.retryInterval;
    this.transmitControl();
  }

  private transmitControl(): void {
    const type = this.controlType;
    let n: number;
    if (type === MsgType.Connect) {
      const c = this.mConnect;
      c.will = this.options.willTopic !== "";
      c.cleanSession = this.options.cleanSession;
      c.duration = this.options.keepAlive;
      c.clientId = this.options.clientId;
      n = encode(c, this.tx, 0);
    } else if (type === MsgType.PingReq) {
      // §6.14: a waking client names itself in PINGREQ.
      this.mPingReq.clientId = this.state === ClientState.Awake ? this.options.clientId : undefined;
      n = encode(this.mPingReq, this.tx, 0);
    } else {
      this.mDisconnect.duration = this.sleepDuration > 0 ? this.sleepDuration : undefined;
      n = encode(this.mDisconnect, this.tx, 0);
    }
    this.sendTx(n);
  }

  private sendTx(length: number): void {
    this.lastSent = this.now;
    this.transport.send(this.tx, length);
  }

  private sendSlot(s: number): void {
    this.lastSent = this.now;
    this.transport.send(this.slotBuf[s] as Bytes, this.slotLength[s] as number);
  }

  private sendRegAck(topicId: number, msgId: number, returnCode: ReturnCode): void {
    this.mRegAck.topicId = topicId;
    this.mRegAck.msgId = msgId;
    this.mRegAck.returnCode = returnCode;
    this.sendTx(encode(this.mRegAck, this.tx, 0));
  }

  private sendPubAck(topicId: number, msgId: number, returnCode: ReturnCode): void {
    this.mPubAck.topicId = topicId;
    this.mPubAck.msgId = msgId;
    this.mPubAck.returnCode = returnCode;
    this.sendTx(encode(this.mPubAck, this.tx, 0));
  }

  private sendFlow(type: MsgType.PubRec | MsgType.PubRel | MsgType.PubComp, msgId: number): void {
    this.mFlow.type = type;
    this.mFlow.msgId = msgId;
    this.sendTx(encode(this.mFlow, this.tx, 0));
  }

  private fillPublish(topicIdType: TopicIdType, topicId: number, msgId: number, data: Bytes, offset: number, length: number, qos: QoS, retain: boolean): void {
    const p = this.mPublish;
    p.dup = false;
    p.qos = qos;
    p.retain = retain;
    p.topicIdType = topicIdType;
    p.topicId = topicId;
    p.msgId = msgId;
    p.data = data;
    p.dataOffset = offset;
    p.dataLength = length;
  }

  private publishNow(topicIdType: TopicIdType, topicId: number, t: number, data: Bytes, offset: number, length: number, qos: QoS, retain: boolean): number {
    if (qos <= 0) {
      this.fillPublish(topicIdType, topicId, 0, data, offset, length, qos, retain);
      const n = encode(this.mPublish, this.tx, 0);
      this.mPublish.data = this.tx;
      this.sendTx(n);
      return 0;
    }
    const s = this.freeSlot();
    if (s < 0) {
      return -1;
    }
    const msgId = this.newMsgId();
    this.fillPublish(topicIdType, topicId, msgId, data, offset, length, qos, retain);
    this.slotLength[s] = encode(this.mPublish, this.slotBuf[s] as Bytes, 0);
    this.open(s, MsgType.Publish, msgId, t, qos);
    this.mPublish.data = this.tx;
    this.sendSlot(s);
    return msgId;
  }

  private subscribeNow(topicIdType: TopicIdType, qos: QoS, name: string): number {
    const s = this.requestSlot(name.length + 7);
    if (s < 0 || qos === -1) {
      return -1;
    }
    const m = this.mSubscribe;
    m.dup = false;
    m.qos = qos;
    m.topicIdType = topicIdType;
    m.msgId = this.newMsgId();
    this.slotLength[s] = encode(m, this.slotBuf[s] as Bytes, 0);
    this.open(s, MsgType.Subscribe, m.msgId, -1, qos);
    this.slotName[s] = name;
    this.sendSlot(s);
    return m.msgId;
  }

  private unsubscribeNow(topicIdType: TopicIdType, name: string): number {
    const s = this.requestSlot(name.length + 7);
    if (s < 0) {
      return -1;
    }
    const m = this.mUnsubscribe;
    m.topicIdType = topicIdType;
    m.msgId = this.newMsgId();
    this.slotLength[s] = encode(m, this.slotBuf[s] as Bytes, 0);
    this.open(s, MsgType.Unsubscribe, m.msgId, -1, 0);
    this.sendSlot(s);
    return m.msgId;
  }

  /** A free slot for a request of `octets` octets while Active, or -1. */
  private requestSlot(octets: number): number {
    if (this.state !== ClientState.Active || octets > this.size) {
      return -1;
    }
    return this.freeSlot();
  }

  private retransmit(s: number): void {
    const type = this.slotType[s];
    if (type === MsgType.Publish || type === MsgType.Subscribe) {
      // §6.13: a retransmitted PUBLISH or SUBSCRIBE carries DUP.
      const buf = this.slotBuf[s] as Bytes;
      const f = flagsOffset(buf);
      if ((buf[f] as number) < 0x80) {
        buf[f] = (buf[f] as number) + 0x80;
      }
    }
    this.slotRetries[s] = (this.slotRetries[s] as number) + 1;
    this.slotDeadline[s] = this.now + this.options.retryInterval;
    this.sendSlot(s);
  }

  private open(s: number, type: number, msgId: number, t: number, qos: number): void {
    this.slotType[s] = type;
    this.slotMsgId[s] = msgId;
    this.slotTopic[s] = t;
    this.slotQos[s] = qos;
    this.slotRetries[s] = 0;
    this.slotWaiting[s] = 0;
    this.slotName[s] = "";
    this.slotDeadline[s] = this.now + this.options.retryInterval;
    if (t >= 0) {
      this.topics.pins[t] = (this.topics.pins[t] as number) + 1;
    }
  }

  private release(s: number): void {
    const t = this.slotTopic[s] as number;
    if (t >= 0 && (this.topics.pins[t] as number) > 0) {
      this.topics.pins[t] = (this.topics.pins[t] as number) - 1;
    }
    this.slotType[s] = 0;
    this.slotTopic[s] = -1;
    this.slotName[s] = "";
  }

  /** Ends slot s (when it is open) and tells the application. PUBCOMP reports as its PUBLISH. */
  private finish(s: number, returnCode: number, topicId: number): void {
    if (s < 0) {
      this.dropped++;
      return;
    }
    const type = this.slotType[s] as number;
    const msgId = this.slotMsgId[s] as number;
    this.release(s);
    this.handler.done(type === MsgType.PubRel ? MsgType.Publish : type, msgId, returnCode, topicId);
  }

  private failAll(): void {
    for (let s = 0; s < this.slots; s++) {
      const type = this.slotType[s] as number;
      if (type !== 0) {
        const msgId = this.slotMsgId[s] as number;
        const silent = this.slotQos[s] === 0 && (type === MsgType.Register || type === MsgType.Publish);
        this.release(s);
        if (!silent) {
          this.handler.done(type === MsgType.PubRel ? MsgType.Publish : type, msgId, -1, 0);
        }
      }
    }
    this.topics.clear();
    this.clearQos2();
  }

  private clearQos2(): void {
    for (let i = 0; i < this.qos2Ids.length; i++) {
      this.qos2Ids[i] = 0;
    }
  }

  private findSlot(type: number, msgId: number): number {
    for (let s = 0; s < this.slots; s++) {
      if (this.slotType[s] === type && this.slotMsgId[s] === msgId) {
        return s;
      }
    }
    return -1;
  }

  private freeSlot(): number {
    for (let s = 0; s < this.slots; s++) {
      if (this.slotType[s] === 0) {
        return s;
      }
    }
    return -1;
  }

  private busySlots(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) {
      if (this.slotType[s] !== 0) {
        n++;
      }
    }
    return n;
  }

  /** 1..65535, skipping ids still open (§5.3.9: MsgId 0 is not used by requests that await answers). */
  private newMsgId(): number {
    for (;;) {
      this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
      let inUse = false;
      for (let s = 0; s < this.slots; s++) {
        if (this.slotType[s] !== 0 && this.slotMsgId[s] === this.nextId) {
          inUse = true;
        }
      }
      if (!inUse) {
        return this.nextId;
      }
    }
  }
}
