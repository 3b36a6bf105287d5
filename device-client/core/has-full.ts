/**
 * false when a bundle holds the sensor profile only. Node and Lua build both clients from one core:
 * true there, and the core asks at run time whether the full client's part (`other`) is present. The
 * Espruino sensor library holds no full client (scripts/build-device-espruino.mjs resolves this file
 * to device-client/espruino/has-full-sensor.ts), so that the minifier drops what only the full client
 * reaches.
 */
export const HAS_FULL: boolean = true;
