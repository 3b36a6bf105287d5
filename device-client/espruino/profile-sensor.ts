/** The sensor-profile build's stand-in for profile.ts (see there). */
export { SensorClient as ProfileClient } from "../core/sensor";
