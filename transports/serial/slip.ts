import {
  encodeSlipFrame,
  SLIP_CRC_LENGTH,
  slipCrcMatches,
  slipMaxFrameLength,
  SlipOctet,
  slipUnescape,
  type Bytes,
} from "../../protocol/index";
import { newFramingCounters, type FramingCounters } from "./counters";

/** The shortest MQTT-SN message (Length + MsgType). */
const MIN_MESSAGE = 2;

/**
 * One SLIP frame: END, then the message followed by its CRC-16/CCITT-FALSE (high octet first), with
 * END and ESC octets escaped, then END (protocol/slip.ts). The leading END flushes any line noise at
 * the receiver.
 */
export function encodeSlip(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(slipMaxFrameLength(message.length));
  const length = encodeSlipFrame(message as unknown as Bytes, message.length, out as unknown as Bytes);
  return out.slice(0, length);
}

/**
 * Streaming SLIP decoder. Octets arrive in chunks of any size; each complete frame whose CRC matches
 * is handed to onFrame without its CRC. Empty frames (two ENDs in a row) are ignored silently.
 * Bound: a frame that grows past maxMessage + 2 octets is dropped whole (counted as oversize) and the
 * decoder discards octets until the next END. An ESC followed by anything but ESC_END or ESC_ESC makes
 * the frame malformed: it is dropped at its END. Pure: no I/O, no timers.
 */
export class SlipDecoder {
  readonly counters: FramingCounters = newFramingCounters();
  private readonly buffer: Uint8Array;
  private length = 0;
  private escaped = false;
  private discarding = false;
  private malformed = false;

  constructor(
    private readonly maxMessage: number,
    private readonly onFrame: (message: Uint8Array) => void,
  ) {
    this.buffer = new Uint8Array(maxMessage + SLIP_CRC_LENGTH);
  }

  push(chunk: Uint8Array): void {
    for (const octet of chunk) {
      if (octet === SlipOctet.End) {
        this.endOfFrame();
        continue;
      }
      if (this.discarding) continue;
      let value = octet;
      if (this.escaped) {
        this.escaped = false;
        value = slipUnescape(octet);
        if (value < 0) {
          value = octet;
          this.malformed = true;
        }
      } else if (octet === SlipOctet.Esc) {
        this.escaped = true;
        continue;
      }
      if (this.length === this.buffer.length) {
        this.counters.oversize++;
        this.discarding = true;
        continue;
      }
      this.buffer[this.length++] = value;
    }
  }

  /** Forgets a partial frame, e.g. after the port was reopened. */
  reset(): void {
    this.length = 0;
    this.escaped = false;
    this.discarding = false;
    this.malformed = false;
  }

  private endOfFrame(): void {
    const length = this.length;
    const discarding = this.discarding;
    const malformed = this.malformed || this.escaped;
    this.reset();
    if (discarding || length === 0) return;
    if (malformed || length < MIN_MESSAGE + SLIP_CRC_LENGTH) {
      this.counters.malformed++;
      return;
    }
    if (!slipCrcMatches(this.buffer as unknown as Bytes, length)) {
      this.counters.badCrc++;
      return;
    }
    this.counters.frames++;
    this.onFrame(this.buffer.slice(0, length - SLIP_CRC_LENGTH));
  }
}
