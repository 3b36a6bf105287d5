/**
 * The serial framing (protocol/slip.ts) in the full Lua libraries, for the NodeMCU UART transport
 * (nodemcu-uart.lua): the frame writer and the receiver, which Lua code cannot construct with `new`.
 */
import type { Bytes } from "../../protocol/messages";
import { SlipReceiver, type FrameSink } from "../core/slip-receiver";

export { crc16, encodeSlipFrame } from "../../protocol/slip";

export function createSlipReceiver(buf: Bytes, size: number, sink: FrameSink): SlipReceiver {
  return new SlipReceiver(buf, size, sink);
}
