/**
 * The Lua library of the full client (dist/lua/mqttsn-client.lua, mqttsn-nodemcu.lua): MqttSnClient
 * and the serial framing. Lua code cannot call a typescript-to-lua class with `new`, hence
 * createClient. Only single protocol modules are imported, never protocol/index: the bundle
 * carries no codec.
 */
import { MqttSnClient } from "../core/client";
import type { ClientBuffers, ClientHandler, ClientOptions, Transport } from "../core/types";

export { defaultOptions } from "../core/options";
export { shortTopicId, shortTopicName } from "../../protocol/topics";
export { createSlipReceiver, crc16, encodeSlipFrame } from "./slip";

/** Which client createClient makes: "full" here, "sensor" in the sensor libraries. */
export const profile = "full";

export function createClient(
  transport: Transport,
  handler: ClientHandler,
  buffers: ClientBuffers,
  options: ClientOptions,
): MqttSnClient {
  return new MqttSnClient(transport, handler, buffers, options);
}
