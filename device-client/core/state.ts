import {
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
  type RegAck,
  type Register,
  type SearchGw,
  type Subscribe,
  type Unsubscribe,
  type WillMsg,
  type WillTopic,
} from "../../protocol/index";
import { TopicTable } from "./topic-table";
import { ClientState, type ClientBuffers, type ClientHandler, type ClientOptions, type Transport } from "./types";
import { messageLength } from "./octets";

/**
 * The state of one client session, allocated once here: the family handlers (discovery.ts,
 * connect.ts, register.ts, publish.ts, subscribe.ts, ping.ts) take it as their first argument and
 * MqttSnClient (client.ts) is the API on top of it. Only state, dropped, gwId, topics and size are
 * for applications to read.
 *
 * The CONNECT (§5.4.4), WILLTOPIC (§5.4.7) and WILLMSG (§5.4.9) that options call for must fit the
 * buffers, measured in UTF-8 octets: the constructor throws when one does not (a programmer error;
 * a truncated CONNECT would never be answered).
 */
export class ClientCore {
  state: ClientState;
  /** Datagrams dropped: malformed, not from the gateway, or unexpected in the current state. */
  dropped: number;
  /** The gateway in use, -1 for the configured one or none. */
  gwId: number;
  readonly topics: TopicTable;

  // The session state below is shared with the family handlers of this folder; it is not part of the API.

  now: number;
  readonly transport: Transport;
  readonly handler: ClientHandler;
  readonly options: ClientOptions;
  readonly tx: Bytes;
  /** Octets of each buffer: the largest message the client sends. */
  readonly size: number;
  readonly decodeOptions: DecodeOptions;

  readonly slotBuf: Bytes[];
  /** 0 = free; else the request awaiting its answer: PUBLISH, PUBREL, REGISTER, SUBSCRIBE, UNSUBSCRIBE, WILLTOPICUPD, WILLMSGUPD. */
  readonly slotType: number[];
  readonly slotMsgId: number[];
  readonly slotLength: number[];
  readonly slotDeadline: number[];
  readonly slotRetries: number[];
  /** Topic table entry the exchange needs (pinned), or -1. */
  readonly slotTopic: number[];
  readonly slotQos: number[];
  /** 1 while a PUBLISH waits for the REGACK of its topic. */
  readonly slotWaiting: number[];
  /** The topic name of a SUBSCRIBE, to keep the id its SUBACK returns. */
  readonly slotName: string[];
  readonly slots: number;

  /** The connection-level request awaiting an answer: CONNECT, PINGREQ, DISCONNECT, or 0. */
  controlType: number;
  controlDeadline: number;
  controlRetries: number;
  lastSent: number;
  /** 0 when the gateway's ADVERTISEs are not tracked. */
  advertiseDeadline: number;
  /** Next SEARCHGW (Searching), wake-up (Asleep) or restart (Lost). */
  stateDeadline: number;
  sleepDuration: number;
  searches: number;
  nextId: number;
  /** publish() or publishId() returned Busy: tick() calls handler.ready() once the transport is free. */
  sendWaiting: boolean;
  readonly qos2Ids: number[];

  readonly mPublish: Publish;
  readonly mRegister: Register;
  readonly mRegAck: RegAck;
  readonly mPubAck: PubAck;
  readonly mFlow: PubFlow;
  readonly mSubscribe: Subscribe;
  readonly mUnsubscribe: Unsubscribe;
  readonly mConnect: Connect;
  readonly mWillTopic: WillTopic;
  readonly mWillMsg: WillMsg;
  readonly mPingReq: PingReq;
  readonly mDisconnect: Disconnect;
  readonly mSearchGw: SearchGw;

  constructor(transport: Transport, handler: ClientHandler, buffers: ClientBuffers, options: ClientOptions) {
    const size = buffers.size;
    // CONNECT: Flags, ProtocolId, Duration (4), ClientId. WILLTOPIC: Flags (1), WillTopic.
    if (
      messageLength(4, options.clientId) > size ||
      messageLength(1, options.willTopic) > size ||
      messageLength(options.willMessageLength, "") > size
    ) {
      throw new Error("the client id and the will do not fit the client's buffers of " + size + " octets");
    }
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
    this.sendWaiting = false;
    this.mPublish = {
      type: MsgType.Publish,
      dup: false,
      qos: 0,
      retain: false,
      topicIdType: TopicIdType.Normal,
      topicId: 0,
      msgId: 0,
      data: buffers.tx,
      dataOffset: 0,
      dataLength: 0,
    };
    this.mRegister = { type: MsgType.Register, topicId: 0, msgId: 0, topicName: "" };
    this.mRegAck = { type: MsgType.RegAck, topicId: 0, msgId: 0, returnCode: ReturnCode.Accepted };
    this.mPubAck = { type: MsgType.PubAck, topicId: 0, msgId: 0, returnCode: ReturnCode.Accepted };
    this.mFlow = { type: MsgType.PubRel, msgId: 0 };
    this.mSubscribe = {
      type: MsgType.Subscribe,
      dup: false,
      qos: 0,
      topicIdType: TopicIdType.Normal,
      msgId: 0,
      topicName: "",
      topicId: 0,
    };
    this.mUnsubscribe = {
      type: MsgType.Unsubscribe,
      topicIdType: TopicIdType.Normal,
      msgId: 0,
      topicName: "",
      topicId: 0,
    };
    this.mConnect = { type: MsgType.Connect, will: false, cleanSession: true, duration: 0, clientId: options.clientId };
    this.mWillTopic = { type: MsgType.WillTopic, qos: 0, retain: false, willTopic: "" };
    this.mWillMsg = { type: MsgType.WillMsg, willMsg: buffers.tx, willMsgOffset: 0, willMsgLength: 0 };
    this.mPingReq = { type: MsgType.PingReq, clientId: undefined };
    this.mDisconnect = { type: MsgType.Disconnect, duration: undefined };
    this.mSearchGw = { type: MsgType.SearchGw, radius: options.radius };
  }
}
