/**
 * publish.min.js: the Espruino example on the sensor profile over UDP (espruino-example.ts), small
 * enough for an ESP8266. QoS 2 and a subscription need the full client: publish-full.min.js.
 */
import type { EspruinoDgram } from "../espruino/udp";
import { EspruinoUdpClient } from "../espruino/udp";
import { runExample } from "./espruino-example";

/** require("dgram"), done by the build's banner line outside the bundle. */
declare const MQTTSN_DGRAM: EspruinoDgram;

runExample(
  (handler, options, config) =>
    new EspruinoUdpClient(handler, options, {
      dgram: MQTTSN_DGRAM,
      host: config.host,
      port: config.port,
      broadcastHost: "255.255.255.255",
      bufferSize: 128,
      inflight: 2,
      tickInterval: 100,
    }),
  (config) =>
    config.qos === 2 || config.subscribe !== undefined || config.serial !== undefined
      ? "publish.min.js is built on the sensor profile over UDP: QoS 2, subscribe and serial need publish-full.min.js"
      : "",
);
