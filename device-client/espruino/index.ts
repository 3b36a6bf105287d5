/**
 * The Espruino library bundle: sets the global MQTTSNClient to the client's API (no module system,
 * no bundler helpers). Load it, then: new MQTTSNClient.EspruinoUdpClient(handler, options, config).
 */
import { MqttSnClient } from "../core/client";
import { defaultOptions } from "../core/options";
import { shortTopicId, shortTopicName } from "../../protocol/index";
import { EspruinoSerialClient } from "./serial";
import { EspruinoUdpClient } from "./udp";

// A global on purpose: the board's other scripts read it.
// eslint-disable-next-line no-var
declare var MQTTSNClient: object;
// eslint-disable-next-line @typescript-eslint/no-unused-vars
MQTTSNClient = {
  MqttSnClient: MqttSnClient,
  EspruinoUdpClient: EspruinoUdpClient,
  EspruinoSerialClient: EspruinoSerialClient,
  defaultOptions: defaultOptions,
  shortTopicId: shortTopicId,
  shortTopicName: shortTopicName,
};
