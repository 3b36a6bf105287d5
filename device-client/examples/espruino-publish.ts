/**
 * publish.min.js: the Espruino example on the sensor profile over UDP (espruino-example.ts), small
 * enough for an ESP8266. QoS 2, a subscription and serial need the full example: publish-full.min.js.
 */
import { openUdp, runExample } from "./espruino-example";

runExample(openUdp, (config) =>
  config.qos === 2 || config.subscribe !== undefined || config.serial !== undefined
    ? "publish.min.js is built on the sensor profile over UDP: QoS 2, subscribe and serial need publish-full.min.js"
    : "",
);
