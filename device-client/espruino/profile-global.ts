import type { MqttSnClient } from "../core/client";

/**
 * The serial add-on's stand-in for profile.ts: the client class of the library loaded before it
 * (mqttsn-client.min.js or mqttsn-sensor.min.js), from the global that library sets.
 */
declare const MQTTSNClient: { Client: typeof MqttSnClient; profile: "full" | "sensor" };

export const ProfileClient = MQTTSNClient.Client;
export const PROFILE = MQTTSNClient.profile;
