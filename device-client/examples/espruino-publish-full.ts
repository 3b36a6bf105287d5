/**
 * publish-full.min.js: the Espruino example on the full client (espruino-example.ts), over UDP or,
 * with serial: "Serial1" or "Bluetooth" in MQTTSN_CONFIG, over that port with SLIP framing.
 */
import { EspruinoSerialClient, type EspruinoSerial } from "../espruino/serial";
import { EspruinoUdpClient, type EspruinoDgram } from "../espruino/udp";
import { runExample } from "./espruino-example";

/** require("dgram"), done by the build's banner line outside the bundle. */
declare const MQTTSN_DGRAM: EspruinoDgram;
declare const Serial1: EspruinoSerial;
declare const Bluetooth: EspruinoSerial;

runExample(
  (handler, options, config) =>
    config.serial === undefined
      ? new EspruinoUdpClient(handler, options, {
          dgram: MQTTSN_DGRAM,
          host: config.host,
          port: config.port,
          broadcastHost: "255.255.255.255",
          bufferSize: 128,
          inflight: 2,
          tickInterval: 100,
        })
      : new EspruinoSerialClient(handler, options, {
          serial: config.serial === "Bluetooth" ? Bluetooth : Serial1,
          bufferSize: 128,
          inflight: 2,
          tickInterval: 100,
        }),
  () => "",
);
