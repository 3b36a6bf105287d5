/**
 * mqttsn-serial.min.js: the serial adapter (UART or Bluetooth LE UART, SLIP framing) as an add-on to
 * the library loaded before it, for the boards that reach their gateway that way. Each Espruino
 * bundle carries one transport: every function costs the board RAM. Load a library, then this:
 *   var link = new MQTTSNClient.EspruinoSerialClient(handler, options, config); link.start();
 */
import { EspruinoSerialClient } from "./serial";

declare const MQTTSNClient: { EspruinoSerialClient: typeof EspruinoSerialClient };

MQTTSNClient.EspruinoSerialClient = EspruinoSerialClient;
