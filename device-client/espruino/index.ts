/**
 * An Espruino library bundle: sets the global MQTTSNClient to the client's API (no module system,
 * no bundler helpers). Built twice: mqttsn-client.min.js with the full client, mqttsn-sensor.min.js
 * with the sensor profile (profile.ts). Load one, then:
 *   var link = new MQTTSNClient.EspruinoUdpClient(handler, options, config); link.start();
 * The serial transport is the add-on mqttsn-serial.min.js (serial-addon.ts).
 */
import { defaultOptions } from "./options";
import { shortTopicName } from "../../protocol/topics";
import { shortTopicId } from "./topics";
import { ProfileClient } from "./profile";
import { EspruinoUdpClient } from "./udp";

// A global on purpose: the board's other scripts read it.
// eslint-disable-next-line no-var
declare var MQTTSNClient: Record<string, unknown>;
/** "full" or "sensor": the profile of the bundle being built (scripts/build-device-espruino.mjs). */
declare const ESPRUINO_PROFILE: string;
MQTTSNClient = {
  profile: ESPRUINO_PROFILE,
  Client: ProfileClient,
  EspruinoUdpClient: EspruinoUdpClient,
  defaultOptions: defaultOptions,
  shortTopicId: shortTopicId,
};
// The full client's only: short topic names of incoming PUBLISHes back into text.
if (ESPRUINO_PROFILE === "full") {
  MQTTSNClient.shortTopicName = shortTopicName;
}
