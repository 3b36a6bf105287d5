/**
 * publish-full.min.js: the Espruino example on the full client (espruino-example.ts), over UDP or,
 * with serial: "Serial1" or "Bluetooth" in MQTTSN_CONFIG, over that port with SLIP framing.
 */
import { EspruinoSerialClient, type EspruinoSerial } from "../espruino/serial";
import { openUdp, runExample } from "./espruino-example";

declare const Serial1: EspruinoSerial;
declare const Bluetooth: EspruinoSerial;

runExample(
  (handler, options, config) =>
    config.serial === undefined
      ? openUdp(handler, options, config)
      : new EspruinoSerialClient(handler, options, {
          serial: config.serial === "Bluetooth" ? Bluetooth : Serial1,
          bufferSize: 128,
          inflight: 2,
          tickInterval: 100,
        }),
  () => "",
);
