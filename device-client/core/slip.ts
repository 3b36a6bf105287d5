import type { Bytes } from "../../protocol/index";

/**
 * The gateway's serial framing (hardware/serial-framing.md) for clients on a UART or a BLE UART:
 * SLIP (RFC 1055) around the message followed by its CRC-16/CCITT-FALSE, high octet first. Written
 * without bitwise operators (Lua 5.1) and without allocating: the caller hands in the buffers.
 */
const END = 0xc0;
const ESC = 0xdb;
const ESC_END = 0xdc;
const ESC_ESC = 0xdd;

/** a XOR b for 16-bit values, by arithmetic. */
function xor16(a: number, b: number): number {
  let result = 0;
  let bit = 1;
  for (let i = 0; i < 16; i++) {
    if (Math.floor(a / bit) % 2 !== Math.floor(b / bit) % 2) {
      result += bit;
    }
    bit *= 2;
  }
  return result;
}

/** CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR) of buf[offset .. offset + length). */
export function crc16(buf: Bytes, offset: number, length: number): number {
  let crc = 0xffff;
  for (let i = offset; i < offset + length; i++) {
    crc = xor16(crc, (buf[i] as number) * 256);
    for (let k = 0; k < 8; k++) {
      const high = crc >= 0x8000;
      crc = (crc * 2) % 65536;
      if (high) {
        crc = xor16(crc, 0x1021);
      }
    }
  }
  return crc;
}

function put(out: Bytes, o: number, octet: number): number {
  if (octet === END) {
    out[o] = ESC;
    out[o + 1] = ESC_END;
    return o + 2;
  }
  if (octet === ESC) {
    out[o] = ESC;
    out[o + 1] = ESC_ESC;
    return o + 2;
  }
  out[o] = octet;
  return o + 1;
}

/**
 * Writes the SLIP frame of message[0 .. length) into out and returns its length. out needs room for
 * 2 * (length + 2) + 2 octets in the worst case.
 */
export function encodeSlipFrame(message: Bytes, length: number, out: Bytes): number {
  const crc = crc16(message, 0, length);
  let o = 0;
  out[o++] = END;
  for (let i = 0; i < length; i++) {
    o = put(out, o, message[i] as number);
  }
  o = put(out, o, Math.floor(crc / 256));
  o = put(out, o, crc % 256);
  out[o++] = END;
  return o;
}

/** @noSelf */
export interface FrameSink {
  /** One message, CRC checked and removed, in buf[0 .. length); valid only during the call. */
  frame(buf: Bytes, length: number): void;
}

/**
 * Receives a SLIP + CRC stream octet by octet into a buffer of `size` octets. Frames with a bad CRC,
 * a bad escape, fewer than 4 octets, or more than `size` (the rest skipped to the next END) are
 * dropped and counted in `dropped`.
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
    if (octet === END) {
      this.end();
      return;
    }
    if (this.skipping) {
      return;
    }
    let value = octet;
    if (this.escaped) {
      this.escaped = false;
      if (octet === ESC_END) {
        value = END;
      } else if (octet === ESC_ESC) {
        value = ESC;
      } else {
        this.fail();
        return;
      }
    } else if (octet === ESC) {
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
    if (n < 4 || crc16(this.buf, 0, n - 2) !== (this.buf[n - 2] as number) * 256 + (this.buf[n - 1] as number)) {
      this.dropped++;
      return;
    }
    this.sink.frame(this.buf, n - 2);
  }

  private fail(): void {
    this.dropped++;
    this.skipping = true;
  }
}
