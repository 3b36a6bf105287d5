import { encode, encodingLength, MsgType, type Bytes, type Message } from "../../protocol";
import type { Link } from "../../transports/link";

export function encodeFrame(message: Message): Buffer {
  const frame = Buffer.allocUnsafe(encodingLength(message));
  encode(message, frame as unknown as Bytes, 0);
  return frame;
}

/** Sends to a client; behind a forwarder (a node id) wrapped in its encapsulation, §5.5. */
export function sendTo(link: Link, address: string, nodeId: Bytes | undefined, message: Message): void {
  const wrapped: Message =
    nodeId === undefined ? message : { type: MsgType.Encapsulated, radius: 0, wirelessNodeId: nodeId, message };
  link.send(address, encodeFrame(wrapped));
}
