/**
 * The client class an Espruino bundle's adapters construct. This file gives the full client; the
 * sensor-profile build (scripts/build-device-espruino.mjs) resolves it to profile-sensor.ts instead,
 * so that the full client's code is not in that bundle at all.
 */
export { MqttSnClient as ProfileClient } from "../core/client";
