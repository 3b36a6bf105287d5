import type { Bytes } from "../../protocol/messages";
import { SLIP_CRC_LENGTH, slipCrcMatches, SlipOctet, slipUnescape } from "../../protocol/slip";

/** @noSelf */
export interface FrameSink {
  /** One message, CRC checked and removed, in buf[0 .. length); valid only during the call. */
  frame(buf: Bytes, length: number): void;
}

/**
 * The device client's receiver of the serial framing (protocol/slip.ts): takes the stream octet by
 * octet into a buffer of `size` octets. Frames with a bad CRC, a bad escape, fewer than 4 octets, or
 * more than `size` (the rest skipped to the next End) are dropped and counted in `dropped`.
 */
export class SlipReceiver {
  dropped: number;
  private readonly buf: Bytes;
  private readonly size: number;
  private readonly sink: FrameSink;
  private length: number;
  private escaped: boolean;
  private skipping: boolean;

  constructor(buf: Bytes, size: number, sink: FrameSink) {
    this.buf = buf;
    this.size = size;
    this.sink = sink;
    this.dropped = 0;
    this.length = 0;
    this.escaped = false;
    this.skipping = false;
  }

  push(octet: number): void {
    if (octet === SlipOctet.End) {
      this.end();
      return;
    }
    if (this.skipping) {
      return;
    }
    let value = octet;
    if (this.escaped) {
      this.escaped = false;
      value = slipUnescape(octet);
      if (value < 0) {
        this.fail();
        return;
      }
    } else if (octet === SlipOctet.Esc) {
      this.escaped = true;
      return;
    }
    if (this.length >= this.size) {
      this.fail();
      return;
    }
    this.buf[this.length] = value;
    this.length++;
  }

  private end(): void {
    const n = this.length;
    const skipped = this.skipping || this.escaped;
    this.length = 0;
    this.escaped = false;
    this.skipping = false;
    if (skipped || n === 0) {
      return;
    }
    if (!slipCrcMatches(this.buf, n)) {
      this.dropped++;
      return;
    }
    this.sink.frame(this.buf, n - SLIP_CRC_LENGTH);
  }

  private fail(): void {
    this.dropped++;
    this.skipping = true;
  }
}
