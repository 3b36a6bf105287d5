import { MqttSnClient } from "../core/client";
import { ClientState, PublishResult, type ClientHandler } from "../core/types";
import { MsgType, TopicIdType } from "../../protocol/constants";
import type { Bytes, QoS } from "../../protocol/messages";
import { utf8Length } from "../../protocol/text";
import { shortTopicId } from "../../protocol/topics";

/**
 * The example program, written once for every target (portable like the core): connect, optionally
 * subscribe to `subscribe` (then every publish waits for its echo), REGISTER `topic`, publish `count`
 * messages "msg-1" … at `qos`, DISCONNECT. QoS -1 publishes on `topic` as a short topic name (two
 * characters) without subscribing or registering. Each step waits for the answer to the one before, so the
 * datagrams on the wire come in the same order on every platform.
 *
 * When the gateway is lost after the client was connected, the run goes on once the client is Active
 * again: a CONNECT with CleanSession starts without subscriptions (§6.3), so the app subscribes again,
 * then publishes again every message not yet complete. The run fails when the gateway is lost before
 * the first connection or again before a reconnection succeeded.
 */
export interface PublishConfig {
  topic: string;
  count: number;
  qos: QoS;
  /** "" to publish without listening. */
  subscribe: string;
}

/** @noSelf */
export interface AppOutput {
  line(text: string): void;
  /** The run ended: ok is false when the gateway was lost or something was refused. */
  finished(ok: boolean): void;
}

export class PublishApp {
  client: MqttSnClient | undefined;
  readonly handler: ClientHandler;
  private readonly config: PublishConfig;
  private readonly out: AppOutput;
  private readonly payload: Bytes;
  private published: number;
  private acknowledged: number;
  private received: number;
  private started: boolean;
  /** Active since the gateway was last lost (or since the start). */
  private connected: boolean;
  private ended: boolean;
  private readonly echo: boolean;

  constructor(config: PublishConfig, out: AppOutput, payload: Bytes) {
    this.config = config;
    this.out = out;
    this.payload = payload;
    this.published = 0;
    this.acknowledged = 0;
    this.received = 0;
    this.started = false;
    this.connected = false;
    this.ended = false;
    this.echo = config.subscribe !== "" && config.qos !== -1;
    this.handler = {
      stateChanged: (state: ClientState) => this.onState(state),
      message: (topicName: string, _type: number, _id: number, data: Bytes, offset: number, length: number) =>
        this.onMessage(topicName, data, offset, length),
      done: (msgType: number, msgId: number, returnCode: number) => this.onDone(msgType, msgId, returnCode),
      // After a Busy result: the transport can take datagrams again.
      ready: () => {
        if (this.connected) {
          this.next();
        }
      },
    };
  }

  private onState(state: ClientState): void {
    if (state === ClientState.Active) {
      this.out.line(this.started ? "connected again" : "connected");
      this.started = true;
      this.connected = true;
      this.resume();
    } else if (state === ClientState.Lost) {
      this.out.line("gateway lost");
      if (!this.connected) {
        this.end(false);
      }
      this.connected = false;
    } else if (state === ClientState.Disconnected) {
      this.out.line("disconnected");
      this.end(this.received === (this.echo ? this.config.count : 0) && this.acknowledged === this.config.count);
    }
  }

  /**
   * From the first message not complete (acknowledged, and echoed when subscribed): subscribe (again,
   * after a reconnection), register, publish. Exchanges open when the gateway was lost were given up.
   */
  private resume(): void {
    const c = this.client as MqttSnClient;
    const complete = this.echo && this.received < this.acknowledged ? this.received : this.acknowledged;
    this.published = complete;
    this.acknowledged = complete;
    if (this.echo) {
      this.received = complete;
    }
    if (this.config.qos === -1) {
      this.next();
    } else if (this.echo) {
      this.check(c.subscribe(this.config.subscribe, this.config.qos < 0 ? 0 : this.config.qos), "subscribe");
    } else {
      this.register();
    }
  }

  private onDone(msgType: number, msgId: number, returnCode: number): void {
    const c = this.client as MqttSnClient;
    if (returnCode < 0) {
      // Given up: the gateway was lost. resume() sends it again once the client is Active.
      return;
    }
    if (returnCode !== 0) {
      this.out.line("refused: message type " + msgType + " id " + msgId + " return code " + returnCode);
      c.disconnect();
      return;
    }
    if (msgType === MsgType.Subscribe) {
      this.out.line("subscribed " + this.config.subscribe);
      this.register();
    } else if (msgType === MsgType.Register) {
      this.out.line("registered " + this.config.topic);
      this.next();
    } else if (msgType === MsgType.Publish) {
      this.acknowledged++;
      this.out.line("acknowledged " + this.acknowledged);
      this.next();
    }
  }

  private onMessage(topicName: string, data: Bytes, offset: number, length: number): void {
    this.received++;
    let text = "";
    for (let i = 0; i < length; i++) {
      text += String.fromCharCode(data[offset + i] as number);
    }
    this.out.line("received " + topicName + " " + text);
    this.next();
  }

  /** REGISTER the topic; a name the SUBACK already gave an id needs none. */
  private register(): void {
    const c = this.client as MqttSnClient;
    const result = c.register(this.config.topic);
    if (result === 0) {
      this.out.line("registered " + this.config.topic);
      this.next();
    } else if (result < 0 && this.registerLength() > c.size) {
      this.out.line(
        "register refused: the topic name is " +
          utf8Length(this.config.topic) +
          " octets in UTF-8, too long for a REGISTER in the client's " +
          c.size +
          "-octet buffers",
      );
      this.end(false);
    } else {
      this.check(result, "register");
    }
  }

  /** Octets of the topic's REGISTER (§5.4.10): Length (1, or 3 above 255), MsgType, TopicId, MsgId, TopicName. */
  private registerLength(): number {
    const n = 6 + utf8Length(this.config.topic);
    return n <= 255 ? n : n + 2;
  }

  /** Publishes when the previous message is complete: acknowledged (QoS 1, 2) and echoed (when subscribed). */
  private next(): void {
    const c = this.client as MqttSnClient;
    const echo = this.echo;
    const qos = this.config.qos;
    for (;;) {
      const ackedAll = qos <= 0 || this.acknowledged === this.published;
      const echoedAll = !echo || this.received >= this.published;
      if (!ackedAll || !echoedAll) {
        return;
      }
      if (this.published === this.config.count) {
        c.disconnect();
        return;
      }
      this.published++;
      const n = this.writePayload(this.published);
      const result =
        qos === -1
          ? c.publishId(TopicIdType.Short, shortTopicId(this.config.topic), this.payload, 0, n, qos, false)
          : c.publish(this.config.topic, this.payload, 0, n, qos, false);
      if (result === PublishResult.Busy) {
        // The adapter's send queue is full: handler.ready() goes on with this message.
        this.published--;
        return;
      }
      if (!this.check(result, "publish")) {
        return;
      }
      this.out.line("published " + this.published);
      if (qos <= 0) {
        this.acknowledged++;
      }
    }
  }

  /** "msg-" and the decimal number, written into the preallocated payload buffer. */
  private writePayload(n: number): number {
    const prefix = "msg-";
    for (let i = 0; i < prefix.length; i++) {
      this.payload[i] = prefix.charCodeAt(i);
    }
    let digits = 1;
    while (Math.pow(10, digits) <= n) {
      digits++;
    }
    for (let d = 0; d < digits; d++) {
      this.payload[prefix.length + digits - 1 - d] = 48 + (Math.floor(n / Math.pow(10, d)) % 10);
    }
    return prefix.length + digits;
  }

  private check(result: number, what: string): boolean {
    if (result < 0) {
      this.out.line(what + " refused: the client is not connected or its tables are full");
      this.end(false);
      return false;
    }
    return true;
  }

  private end(ok: boolean): void {
    if (!this.ended) {
      this.ended = true;
      this.out.finished(ok);
    }
  }
}
