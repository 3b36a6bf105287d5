/**
 * false when a bundle holds the sensor profile only. Node and Lua build both clients from one core:
 * true there, and the core asks at run time whether the full client's part (`other`) is present. An
 * Espruino bundle holds one client: scripts/build-device-espruino.mjs gives HAS_FULL its value there
 * as a constant the minifier sees, which drops what the sensor profile does not reach.
 */
export const HAS_FULL: boolean = true;
