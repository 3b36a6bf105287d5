/**
 * The Lua library of the sensor profile (dist/lua/mqttsn-sensor.lua): SensorClient (core/sensor.ts)
 * and nothing of the full client. Lua code cannot call a typescript-to-lua class with `new`, hence
 * createClient. Only single protocol modules are imported, never protocol/index: the bundle
 * carries no codec.
 */
import { SensorClient } from "../core/sensor";
import type { ClientBuffers, ClientHandler, ClientOptions, Transport } from "../core/types";

export { defaultOptions } from "../core/options";
export { shortTopicId, shortTopicName } from "../../protocol/topics";

/** Which client createClient makes: "sensor" here, "full" in the full libraries. */
export const profile = "sensor";

export function createClient(
  transport: Transport,
  handler: ClientHandler,
  buffers: ClientBuffers,
  options: ClientOptions,
): SensorClient {
  return new SensorClient(transport, handler, buffers, options);
}
