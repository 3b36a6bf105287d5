/**
 * publish.min.js: the Espruino example on the sensor profile over UDP, small enough for an ESP8266
 * (it runs with half of that board's 1,700 variables free). Define a global
 * MQTTSN_CONFIG = {host, port, clientId, topic, count, qos} before it runs (and connect Wi-Fi first).
 * QoS 2, a subscription and serial need the full example: publish-full.min.js.
 *
 * It does what the example program does (publish-app.ts) for a configuration without a subscription,
 * and prints the same lines: connect, REGISTER the topic (QoS -1: none, the topic is a short topic
 * name of two ASCII characters), publish count messages "msg-1" … one after the other (QoS 1: each
 * after the PUBACK of the one before; QoS 0 and -1: in a loop, until the transport is busy, then on
 * handler.ready()), DISCONNECT. When the gateway is lost after the first connection, it goes on from
 * the first message not acknowledged once the client is Active again. It is written as one function
 * whose closures share its variables, not as the example program's class: on Espruino every function,
 * parameter and field costs RAM, and the class, written once for every platform, costs an ESP8266
 * about 120 variables more.
 */
import { TopicIdType } from "../../protocol/constants";
import { ClientState, PublishResult, type ClientHandler } from "../core/types";
import { defaultOptions } from "../espruino/options";
import { utf8Length } from "../espruino/text";
import { EspruinoUdpClient, type EspruinoDgram } from "../espruino/udp";
import type { EspruinoConfig } from "./espruino-example";

declare const MQTTSN_CONFIG: EspruinoConfig | undefined;
/** require("dgram"), done by the build's banner line outside the bundle. */
declare const MQTTSN_DGRAM: EspruinoDgram;

const REGISTER = 0x0a;
const PUBLISH = 0x0c;

function run(): void {
  const config: EspruinoConfig =
    typeof MQTTSN_CONFIG !== "undefined" && MQTTSN_CONFIG !== undefined
      ? MQTTSN_CONFIG
      : {
          host: "192.168.1.10",
          port: 1884,
          ["clientId"]: "espruino-1",
          topic: "sensors/espruino",
          count: 5,
          qos: 1,
          subscribe: undefined,
          serial: undefined,
        };
  if (config.qos === 2 || config.subscribe !== undefined || config.serial !== undefined) {
    console.log(
      "publish.min.js is built on the sensor profile over UDP: QoS 2, subscribe and serial need publish-full.min.js",
    );
    console.log("failed");
    return;
  }
  const topic = config.topic;
  const qos = config.qos;
  const payload = new Uint8Array(16);
  let published = 0;
  let acknowledged = 0;
  let started = false;
  /** Active since the gateway was last lost (or since the start). */
  let connected = false;
  let ended = false;

  const end = (ok: boolean): void => {
    if (!ended) {
      ended = true;
      console.log(ok ? "finished" : "failed");
      link.close();
    }
  };
  const refused = (what: string): void => {
    console.log(what + " refused: the client is not connected or its tables are full");
    end(false);
  };
  /** Publishes while the message before is acknowledged (QoS 1) or sent (QoS 0, -1). */
  const next = (): void => {
    const c = link.client;
    while (qos <= 0 || acknowledged === published) {
      if (published === config.count) {
        c.disconnect();
        return;
      }
      published++;
      // "msg-" and the number, written into the payload buffer.
      const text = "msg-" + published;
      for (let i = 0; i < text.length; i++) {
        payload[i] = text.charCodeAt(i);
      }
      const data = payload as unknown as number[];
      const result =
        qos === -1
          ? c.publishId(
              TopicIdType.Short,
              topic.charCodeAt(0) * 256 + topic.charCodeAt(1),
              data,
              0,
              text.length,
              qos,
              false,
            )
          : c.publish(topic, data, 0, text.length, qos, false);
      if (result === PublishResult.Busy) {
        // The adapter's send queue is full: handler.ready() goes on with this message.
        published--;
        return;
      }
      if (result < 0) {
        refused("publish");
        return;
      }
      console.log("published " + published);
      if (qos <= 0) {
        acknowledged++;
      }
    }
  };
  const handler: ClientHandler = {
    stateChanged: (state) => {
      const c = link.client;
      if (state === ClientState.Active) {
        console.log(started ? "connected again" : "connected");
        started = true;
        connected = true;
        // Exchanges open when the gateway was lost were given up: from the first not acknowledged.
        published = acknowledged;
        const result = qos === -1 ? 0 : c.register(topic);
        const octets = 6 + utf8Length(topic);
        if (result === 0) {
          if (qos !== -1) {
            console.log("registered " + topic);
          }
          next();
        } else if (result < 0 && (octets <= 255 ? octets : octets + 2) > c.size) {
          console.log(
            "register refused: the topic name is " +
              utf8Length(topic) +
              " octets in UTF-8, too long for a REGISTER in the client's " +
              c.size +
              "-octet buffers",
          );
          end(false);
        } else if (result < 0) {
          refused("register");
        }
      } else if (state === ClientState.Lost) {
        console.log("gateway lost");
        if (!connected) {
          end(false);
        }
        connected = false;
      } else if (state === ClientState.Disconnected) {
        console.log("disconnected");
        end(acknowledged === config.count);
      }
    },
    message: () => {},
    done: (msgType, msgId, returnCode) => {
      if (returnCode > 0) {
        console.log("refused: message type " + msgType + " id " + msgId + " return code " + returnCode);
        link.client.disconnect();
      } else if (returnCode === 0 && msgType === REGISTER) {
        console.log("registered " + topic);
        next();
      } else if (returnCode === 0 && msgType === PUBLISH) {
        acknowledged++;
        console.log("acknowledged " + acknowledged);
        next();
      }
    },
    ready: () => {
      if (connected) {
        next();
      }
    },
  };
  const options = defaultOptions(config["clientId"], Math.random);
  options.keepAlive = 30;
  // A lost gateway is tried again after 5 s rather than T_WAIT (5 minutes, §6.16).
  options.reconnectDelay = 5000;
  const link = new EspruinoUdpClient(handler, options, {
    dgram: MQTTSN_DGRAM,
    host: config.host,
    port: config.port,
    broadcastHost: "255.255.255.255",
    bufferSize: 128,
    inflight: 2,
    tickInterval: 100,
  });
  link.start();
}

run();
