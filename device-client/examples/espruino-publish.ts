/**
 * The Espruino example: connect to the gateway and publish `count` messages. Define a global
 * MQTTSN_CONFIG = {host, port, clientId, topic, count, qos} before it runs (and connect Wi-Fi first);
 * with serial: "Serial1" or "Bluetooth" it talks to a gateway serial port (SLIP framing) instead.
 * publish.min.js is built on the sensor profile: QoS 2 and `subscribe` need publish-full.min.js.
 */
import { defaultOptions } from "../core/options";
import { EspruinoSerialClient, type EspruinoSerial } from "../espruino/serial";
import { EspruinoUdpClient, type EspruinoDgram } from "../espruino/udp";
import { PublishApp } from "./publish-app";
import type { QoS } from "../../protocol/messages";
import { PROFILE } from "../espruino/profile";

interface EspruinoConfig {
  host: string;
  port: number;
  clientId: string;
  topic: string;
  count: number;
  qos: QoS;
  subscribe: string | undefined;
  /** "Serial1" or "Bluetooth": talk SLIP-framed MQTT-SN on that port (already set up) instead of UDP. */
  serial: string | undefined;
}

declare const MQTTSN_CONFIG: EspruinoConfig | undefined;
/** require("dgram"), done by the build's banner line outside the bundle. */
declare const MQTTSN_DGRAM: EspruinoDgram;
declare const Serial1: EspruinoSerial;
declare const Bluetooth: EspruinoSerial;

const config: EspruinoConfig =
  typeof MQTTSN_CONFIG !== "undefined" && MQTTSN_CONFIG !== undefined
    ? MQTTSN_CONFIG
    : {
        host: "192.168.1.10",
        port: 1884,
        clientId: "espruino-1",
        topic: "sensors/espruino",
        count: 5,
        qos: 1,
        subscribe: undefined,
        serial: undefined,
      };

const lacking = PROFILE === "sensor" && (config.qos === 2 || config.subscribe !== undefined);
if (lacking) {
  console.log("publish.min.js is built on the sensor profile: QoS 2 and subscribe need publish-full.min.js");
  console.log("failed");
}
const app = new PublishApp(
  {
    topic: config.topic,
    count: config.count,
    qos: config.qos,
    subscribe: config.subscribe === undefined ? "" : config.subscribe,
  },
  {
    line: (text) => console.log(text),
    finished: (ok) => {
      console.log(ok ? "finished" : "failed");
      link.close();
    },
  },
  new Uint8Array(32) as unknown as number[],
);
const options = defaultOptions(config.clientId, Math.random);
options.keepAlive = 30;
// A lost gateway is tried again after 5 s rather than T_WAIT (5 minutes, §6.16).
options.reconnectDelay = 5000;
const link =
  config.serial === undefined
    ? new EspruinoUdpClient(app.handler, options, {
        dgram: MQTTSN_DGRAM,
        host: config.host,
        port: config.port,
        broadcastHost: "255.255.255.255",
        bufferSize: 128,
        inflight: 2,
        tickInterval: 100,
      })
    : new EspruinoSerialClient(app.handler, options, {
        serial: config.serial === "Bluetooth" ? Bluetooth : Serial1,
        bufferSize: 128,
        inflight: 2,
        tickInterval: 100,
      });
app.client = link.client;
if (!lacking) {
  link.start();
}
