/**
 * An Espruino library bundle: sets the global MQTTSNClient to the client's API (no module system,
 * no bundler helpers). Built twice: mqttsn-client.min.js with the full client, mqttsn-sensor.min.js
 * with the sensor profile (profile.ts). Load one, then:
 *   var link = new MQTTSNClient.EspruinoUdpClient(handler, options, config); link.start();
 * The serial transport is the add-on mqttsn-serial.min.js (serial-addon.ts).
 */
import { defaultOptions } from "./options";
import { shortTopicId, shortTopicName } from "../../protocol/topics";
import { PROFILE, ProfileClient } from "./profile";
import { EspruinoUdpClient } from "./udp";

// A global on purpose: the board's other scripts read it.
// eslint-disable-next-line no-var
declare var MQTTSNClient: object;
// eslint-disable-next-line @typescript-eslint/no-unused-vars
MQTTSNClient = {
  profile: PROFILE,
  Client: ProfileClient,
  EspruinoUdpClient: EspruinoUdpClient,
  defaultOptions: defaultOptions,
  shortTopicId: shortTopicId,
  shortTopicName: shortTopicName,
};
