import { crc16CcittFalse } from "./crc16";
import { newFramingCounters, type FramingCounters } from "./counters";

/** RFC 1055 special octets. */
export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** Octets the CRC adds after the message inside a SLIP frame. */
const CRC_LENGTH = 2;
/** The shortest MQTT-SN message (Length + MsgType). */
const MIN_MESSAGE = 2;

/**
 * One SLIP frame: END, then the message followed by its CRC-16/CCITT-FALSE (high octet first), with
 * END and ESC octets escaped, then END. The leading END flushes any line noise at the receiver.
 */
export function encodeSlip(message: Uint8Array): Uint8Array {
  const crc = crc16CcittFalse(message);
  const body = new Uint8Array(message.length + CRC_LENGTH);
  body.set(message, 0);
  body[message.length] = crc >> 8;
  body[message.length + 1] = crc & 0xff;
  let escapes = 0;
  for (const octet of body) {
    if (octet === SLIP_END || octet === SLIP_ESC) escapes++;
  }
  const out = new Uint8Array(body.length + escapes + 2);
  let o = 0;
  out[o++] = SLIP_END;
  for (const octet of body) {
    if (octet === SLIP_END) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_END;
    } else if (octet === SLIP_ESC) {
      out[o++] = SLIP_ESC;
      out[o++] = SLIP_ESC_ESC;
    } else {
      out[o++] = octet;
    }
  }
  out[o] = SLIP_END;
  return out;
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
    this.buffer = new Uint8Array(maxMessage + CRC_LENGTH);
  }

  push(chunk: Uint8Array): void {
    for (const octet of chunk) {
      if (octet === SLIP_END) {
        this.endOfFrame();
        continue;
      }
      if (this.discarding) continue;
      let value = octet;
      if (this.escaped) {
        this.escaped = false;
        if (octet === SLIP_ESC_END) value = SLIP_END;
        else if (octet === SLIP_ESC_ESC) value = SLIP_ESC;
        else this.malformed = true;
      } else if (octet === SLIP_ESC) {
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
    if (malformed || length < MIN_MESSAGE + CRC_LENGTH) {
      this.counters.malformed++;
      return;
    }
    const messageLength = length - CRC_LENGTH;
    const expected = ((this.buffer[messageLength] as number) << 8) | (this.buffer[messageLength + 1] as number);
    if (crc16CcittFalse(this.buffer, 0, messageLength) !== expected) {
      this.counters.badCrc++;
      return;
    }
    this.counters.frames++;
    this.onFrame(this.buffer.slice(0, messageLength));
  }
}
