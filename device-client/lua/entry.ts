/**
 * The Lua bundles' module: the core, the portable example app, and constructors (Lua code cannot
 * call a typescript-to-lua class with `new`).
 */
import { MqttSnClient } from "../core/client";
import type { ClientBuffers, ClientHandler, ClientOptions, Transport } from "../core/types";
import { PublishApp, type AppOutput, type PublishConfig } from "../examples/publish-app";
import type { Bytes } from "../../protocol/index";
import { SlipReceiver, type FrameSink } from "../core/slip-receiver";

export * from "../core/index";
export { PublishApp } from "../examples/publish-app";

export function createClient(
  transport: Transport,
  handler: ClientHandler,
  buffers: ClientBuffers,
  options: ClientOptions,
): MqttSnClient {
  return new MqttSnClient(transport, handler, buffers, options);
}

export function createPublishApp(config: PublishConfig, out: AppOutput, payload: Bytes): PublishApp {
  return new PublishApp(config, out, payload);
}

export function createSlipReceiver(buf: Bytes, size: number, sink: FrameSink): SlipReceiver {
  return new SlipReceiver(buf, size, sink);
}
