/** The Espruino sensor library's stand-in for device-client/core/has-full.ts (see there). */
export const HAS_FULL: boolean = false;
