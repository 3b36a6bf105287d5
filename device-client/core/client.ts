import { type Bytes, type QoS, type TopicIdType } from "../../protocol/index";
import { updateWillMessage, updateWillTopic, connectNow } from "./connect";
import { start } from "./discovery";
import { disconnect, sleep } from "./ping";
import { publish, publishId } from "./publish";
import { receive } from "./receive";
import { register } from "./register";
import { subscribe, subscribeId, unsubscribe, unsubscribeId } from "./subscribe";
import { tick } from "./tick";
import { ClientCore } from "./state";
import { ClientState } from "./types";

/**
 * An MQTT-SN v1.2 client for one gateway. The platform hands in a transport, a handler and buffers,
 * calls receive() with every datagram and tick() with the time in milliseconds; the client has no
 * timers of its own and, after construction, allocates nothing per message (a REGISTER from the
 * gateway brings a new topic name string).
 *
 * Bounds: buffers.inflight.length exchanges awaiting an answer at once, options.maxTopics topic
 * names, options.maxIncomingQos2 incoming QoS 2 ids. When full, publish/subscribe/unsubscribe and
 * the will updates return -1 and send nothing; the application retries after a done() callback.
 * A message that would not fit buffers.size octets whole (names count in UTF-8 octets) is refused
 * the same way, never sent cut short. A string with a lone UTF-16 surrogate has no UTF-8 form: a
 * name like that throws, as encode() does.
 *
 * Backpressure: while the transport reports busy() (its platform holds as many datagrams not yet sent
 * as the adapter allows), publish() and publishId() return PublishResult.Busy (-2), send nothing and
 * change nothing; handler.ready() follows from tick() once the transport is free. Only new application
 * PUBLISHes are refused: retransmissions, acknowledgements and the connection's own requests are always
 * handed over, so the adapter's queue can exceed its bound by those (at most one per in-flight slot, the
 * control request and the acknowledgements of what arrives).
 *
 * The API on the session state (state.ts); the work is done per message family: discovery.ts,
 * connect.ts, register.ts, publish.ts, subscribe.ts, ping.ts, with exchanges.ts (in-flight slots),
 * session.ts (the connection-level request), tick.ts (time) and receive.ts (dispatch).
 */
export class MqttSnClient extends ClientCore {
  /** Starts (or restarts) the session: gateway discovery (§6.1) or CONNECT to the configured gateway. */
  start(now: number): void {
    start(this, now);
  }

  /** From Asleep or Awake back to Active with a CONNECT (§6.14). Returns false in other states. */
  connect(): boolean {
    if (this.state !== ClientState.Asleep && this.state !== ClientState.Awake) {
      return false;
    }
    connectNow(this);
    return true;
  }

  /** Ends the session with DISCONNECT (§6.6); every open exchange is given up. */
  disconnect(): boolean {
    return disconnect(this);
  }

  /**
   * DISCONNECT with a duration (§6.14): once the gateway answers, the client is Asleep; every
   * `duration` seconds it wakes with PINGREQ, takes the buffered messages and sleeps again on
   * PINGRESP. Refused (false) unless Active with no exchange open.
   */
  sleep(duration: number): boolean {
    return sleep(this, duration);
  }

  /**
   * PUBLISH to a topic name, registering it first when the client has no id for it (§6.10).
   * Returns the MsgId (0 for QoS 0), or -1 when refused: not Active, QoS -1 (needs a predefined or
   * short topic), data or the REGISTER of the name too large for the buffers, in-flight or topic
   * table full; or -2 (PublishResult.Busy) when the transport is busy: retry on handler.ready().
   */
  publish(topicName: string, data: Bytes, offset: number, length: number, qos: QoS, retain: boolean): number {
    return publish(this, topicName, data, offset, length, qos, retain);
  }

  /**
   * REGISTER a topic name ahead of publishing (§6.5). Returns the MsgId (done() reports the REGACK
   * with the topic id), 0 when the name is already registered, or -1 when refused as publish().
   */
  register(topicName: string): number {
    return register(this, topicName);
  }

  /**
   * PUBLISH to a predefined topic id or a short topic name (shortTopicId("ab")), §3.3.2. QoS -1
   * (§6.8) is sent in any state, to the selected or configured gateway. Returns as publish().
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
    return publishId(this, topicIdType, topicId, data, offset, length, qos, retain);
  }

  /** SUBSCRIBE to a topic name or filter (§6.9). Returns the MsgId, or -1 when refused as publish(). */
  subscribe(topicName: string, qos: QoS): number {
    return subscribe(this, topicName, qos);
  }

  /** SUBSCRIBE to a predefined id or a short topic name. */
  subscribeId(topicIdType: TopicIdType, topicId: number, qos: QoS): number {
    return subscribeId(this, topicIdType, topicId, qos);
  }

  unsubscribe(topicName: string): number {
    return unsubscribe(this, topicName);
  }

  unsubscribeId(topicIdType: TopicIdType, topicId: number): number {
    return unsubscribeId(this, topicIdType, topicId);
  }

  /** WILLTOPICUPD (§6.4); "" deletes the will. Returns 0, or -1 when refused. */
  updateWillTopic(willTopic: string, qos: QoS, retain: boolean): number {
    return updateWillTopic(this, willTopic, qos, retain);
  }

  /** WILLMSGUPD (§6.4). Returns 0, or -1 when refused. */
  updateWillMessage(data: Bytes, offset: number, length: number): number {
    return updateWillMessage(this, data, offset, length);
  }

  /** Advances time: retransmissions (§6.13), keep-alive (§6.15), discovery, sleep and reconnection. */
  tick(now: number): void {
    tick(this, now);
  }

  /**
   * One datagram from the network. fromGateway: the adapter saw it come from the selected gateway;
   * anything else is taken only when it is an ADVERTISE or GWINFO. Never throws on bad input.
   */
  receive(buf: Bytes, length: number, fromGateway: boolean): void {
    receive(this, buf, length, fromGateway);
  }
}
