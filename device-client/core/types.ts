import type { Bytes, QoS } from "../../protocol/index";

/** Where the client stands with its gateway; every change is reported through ClientHandler.stateChanged. */
export const enum ClientState {
  /** Not started, or ended by disconnect(). */
  Disconnected = 0,
  /** Waiting for an ADVERTISE or a GWINFO (§6.1). */
  Searching = 1,
  /** CONNECT sent, possibly in the will handshake (§6.2). */
  Connecting = 2,
  Active = 3,
  /** DISCONNECT with a duration acknowledged: the gateway buffers for us (§6.14). */
  Asleep = 4,
  /** PINGREQ with the client id sent: buffered messages arrive until PINGRESP (§6.14). */
  Awake = 5,
  /** The gateway stopped answering; a new start follows after reconnectDelay. */
  Lost = 6,
  /** DISCONNECT sent, waiting for the gateway's DISCONNECT. */
  Disconnecting = 7,
}

/**
 * What the platform gives the core to reach the network. The core calls these synchronously; bytes is
 * one of the core's buffers and is reused as soon as the call returns, so an adapter whose socket reads
 * the buffer later must copy it.
 * @noSelf
 */
export interface Transport {
  /** Sends bytes[0 .. length) to the selected gateway. */
  send(bytes: Bytes, length: number): void;
  /** Sends bytes[0 .. length) to every gateway in reach (SEARCHGW, §6.1). */
  broadcast(bytes: Bytes, length: number, radius: number): void;
  /**
   * From now on send to: the sender of the datagram being handled (gwId 0..255, called while an
   * ADVERTISE or GWINFO is handled), or the configured gateway address (gwId -1).
   */
  selectGateway(gwId: number): void;
  /**
   * True while the platform holds as many datagrams not yet sent as the adapter allows (a platform
   * whose send is asynchronous queues them in memory). Then publish() and publishId() return
   * PublishResult.Busy and send nothing; everything else the client sends is handed over as before.
   * Leave it out when send() is synchronous.
   */
  busy?(): boolean;
}

/** What publish() and publishId() return when they send nothing; otherwise they return the MsgId (0 for QoS 0 and -1). */
export const enum PublishResult {
  /** Not Active, too large for the buffers, or in-flight or topic table full: retry after a done() callback. */
  Refused = -1,
  /** The transport is busy (Transport.busy): retry when ClientHandler.ready is called. */
  Busy = -2,
}

/**
 * Callbacks into the application. They run synchronously inside receive() and tick().
 * @noSelf
 */
export interface ClientHandler {
  stateChanged(state: ClientState): void;
  /**
   * An incoming PUBLISH, already acknowledged (PUBACK / PUBREC sent). data[offset .. offset + length)
   * is only valid during the call. topicName is "" for short and predefined topics.
   */
  message(
    topicName: string,
    topicIdType: number,
    topicId: number,
    data: Bytes,
    offset: number,
    length: number,
    qos: QoS,
    retain: boolean,
  ): void;
  /**
   * An exchange started by the application ended: msgType is the request (REGISTER, PUBLISH, SUBSCRIBE,
   * UNSUBSCRIBE, WILLTOPICUPD, WILLMSGUPD), returnCode the gateway's answer (0 accepted), or -1 when
   * it was given up (gateway lost, client disconnected) and the application should send it again.
   */
  done(msgType: number, msgId: number, returnCode: number, topicId: number): void;
  /**
   * Called once from tick() after publish() or publishId() returned PublishResult.Busy, as soon as the
   * transport is no longer busy (the state may have changed meanwhile). Optional.
   */
  ready?(): void;
}

/** @noSelf */
export interface ClientOptions {
  /** 1..23 characters, §5.3.6. */
  clientId: string;
  /** CONNECT Duration in seconds (§5.4.4); 0 turns PINGREQ off. */
  keepAlive: number;
  cleanSession: boolean;
  /** "" for no will. */
  willTopic: string;
  willQos: QoS;
  willRetain: boolean;
  willMessage: Bytes;
  willMessageLength: number;
  /** T_RETRY in milliseconds, §6.13. */
  retryInterval: number;
  /** N_RETRY: sends after the first before the gateway is taken as lost. */
  maxRetries: number;
  /** Search with SEARCHGW / listen for ADVERTISE instead of connecting to the configured gateway at once. */
  searchGateway: boolean;
  /**
   * The adapter knows a gateway address: used after maxRetries unanswered SEARCHGWs. Full client
   * only, as advertiseMisses and maxIncomingQos2: a sensor-profile bundle's defaultOptions leaves
   * these three out, and the sensor profile searches until a gateway answers.
   */
  hasConfiguredGateway: boolean;
  /** T_SEARCHGW: SEARCHGW goes out after a random delay of up to this many milliseconds. */
  searchDelay: number;
  /** SEARCHGW radius, §5.4.2. */
  radius: number;
  /** N_ADV: the selected gateway's ADVERTISEs missed before it is lost (full client only). */
  advertiseMisses: number;
  /** Milliseconds between losing the gateway and starting again. */
  reconnectDelay: number;
  /** Bound of the topic table (names registered either way and subscribed names with ids). */
  maxTopics: number;
  /** Bound of the incoming QoS 2 message ids waiting for PUBREL (full client only). */
  maxIncomingQos2: number;
  /** A number in [0, 1): the random source for the SEARCHGW delay. */
  random(): number;
}

/**
 * Buffers the platform allocates once: Uint8Arrays in JavaScript, tables in Lua. Each holds `size`
 * octets, the largest message the client sends. inflight.length is the number of exchanges the
 * client keeps open at once (at least 2: a REGISTER and the PUBLISH behind it).
 */
export interface ClientBuffers {
  tx: Bytes;
  inflight: Bytes[];
  size: number;
}
