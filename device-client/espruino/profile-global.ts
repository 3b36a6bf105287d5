import type { MqttSnClient } from "../core/client";

/**
 * The serial add-on's stand-in for profile.ts: the client class of the library loaded before it
 * (mqttsn-client.min.js or mqttsn-sensor.min.js), from the global that library sets.
 */
declare const MQTTSNClient: { Client: typeof MqttSnClient };

export const ProfileClient = MQTTSNClient.Client;
