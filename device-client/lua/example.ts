/**
 * The example program as a Lua module of its own (dist/lua/examples/publish-app.lua), apart from the
 * libraries: createPublishApp, since Lua code cannot call a typescript-to-lua class with `new`. It
 * runs on either profile's client; the example scripts refuse what the sensor profile lacks.
 */
import type { Bytes } from "../../protocol/messages";
import { PublishApp, type AppOutput, type PublishConfig } from "../examples/publish-app";

export function createPublishApp(config: PublishConfig, out: AppOutput, payload: Bytes): PublishApp {
  return new PublishApp(config, out, payload);
}
