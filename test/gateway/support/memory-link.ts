import { decode, encode, encodingLength, type Bytes, type Message } from "../../../protocol";
import type { Link } from "../../../transports/link";

/**
 * A Link held in memory: the test hands the gateway datagrams from any address and hears, synchronously,
 * every datagram the gateway sends. It is for tests of the session logic, which must not depend on
 * timing or on a socket; the UDP link itself is covered by test/transports/udp-link.test.ts and the
 * end-to-end suites. What it does not cover: loss, reordering, MTU refusals and socket errors.
 *
 * A link that is "cut" (the gateway process behind it was killed) neither delivers nor sends anything.
 */
export class MemoryLink implements Link {
  readonly mtu = 1232;
  private onFrame: ((frame: Uint8Array, address: string) => void) | undefined;
  private cut = false;

  constructor(
    readonly name: string,
    /** Receives every message the gateway sends, decoded, with the address it was sent to. */
    private readonly heard: (address: string, message: Message) => void,
  ) {}

  async open(onFrame: (frame: Uint8Array, address: string) => void): Promise<void> {
    this.onFrame = onFrame;
  }

  send(address: string, frame: Uint8Array): boolean {
    if (this.cut) return false;
    const m = decode(frame as unknown as Bytes, 0, frame.length);
    if (m.type === "error") throw new Error(`the gateway sent an undecodable frame to ${address}: ${m.code}`);
    this.heard(address, m);
    return true;
  }

  broadcast(): void {}

  async close(): Promise<void> {
    this.cut = true;
  }

  /** The gateway process died: nothing goes in or out any more, and no shutdown code runs. */
  sever(): void {
    this.cut = true;
  }

  /** A datagram from `address`, handled by the gateway before this returns. */
  inject(address: string, message: Message): void {
    if (this.cut || this.onFrame === undefined) return;
    const frame = new Uint8Array(encodingLength(message));
    encode(message, frame as unknown as Bytes, 0);
    this.onFrame(frame, address);
  }
}
