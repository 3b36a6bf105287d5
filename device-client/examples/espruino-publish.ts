/**
 * The Espruino example: connect to the gateway and publish `count` messages. Define a global
 * MQTTSN_CONFIG = {host, port, clientId, topic, count, qos} before it runs (and connect Wi-Fi first).
 */
import { defaultOptions } from "../core/options";
import { EspruinoUdpClient, type EspruinoDgram } from "../espruino/udp";
import { PublishApp } from "./publish-app";
import type { QoS } from "../../protocol/index";

interface EspruinoConfig {
  host: string;
  port: number;
  clientId: string;
  topic: string;
  count: number;
  qos: QoS;
  subscribe: string | undefined;
}

declare const MQTTSN_CONFIG: EspruinoConfig | undefined;
/** require("dgram"), done by the build's banner line outside the bundle. */
declare const MQTTSN_DGRAM: EspruinoDgram;

const config: EspruinoConfig =
  typeof MQTTSN_CONFIG !== "undefined" && MQTTSN_CONFIG !== undefined
    ? MQTTSN_CONFIG
    : { host: "192.168.1.10", port: 1884, clientId: "espruino-1", topic: "sensors/espruino", count: 5, qos: 1, subscribe: undefined };

const app = new PublishApp(
  { topic: config.topic, count: config.count, qos: config.qos, subscribe: config.subscribe === undefined ? "" : config.subscribe },
  {
    line: (text) => console.log(text),
    finished: (ok) => {
      console.log(ok ? "finished" : "failed");
      udp.close();
    },
  },
  new Uint8Array(32) as unknown as number[],
);
const options = defaultOptions(config.clientId, Math.random);
options.keepAlive = 30;
const udp = new EspruinoUdpClient(app.handler, options, {
  dgram: MQTTSN_DGRAM,
  host: config.host,
  port: config.port,
  broadcastHost: "255.255.255.255",
  bufferSize: 128,
  inflight: 2,
  tickInterval: 100,
});
app.client = udp.client;
udp.start();
