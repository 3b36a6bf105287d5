import type { Bytes } from "./messages";

/**
 * The serial framing of hardware/serial-framing.md, shared by the gateway's serial and BLE links and
 * the device client: SLIP (RFC 1055) around the message followed by its CRC-16/CCITT-FALSE, high octet
 * first. Portable (no bitwise operators, for Lua 5.1) and allocation-free: the caller hands in the buffers.
 */
export const enum SlipOctet {
  End = 0xc0,
  Esc = 0xdb,
  /** After Esc: stands for End. */
  EscEnd = 0xdc,
  /** After Esc: stands for Esc. */
  EscEsc = 0xdd,
}

/** Octets the CRC adds after the message inside a frame. */
export const SLIP_CRC_LENGTH = 2;

/**
 * CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR) of
 * buf[offset .. offset + length). Check value: 0x29B1 for the ASCII octets "123456789".
 * Bit by bit, by arithmetic: the feedback is the register's top bit XOR the next message bit; the
 * register shifts left; with feedback, XOR 0x1021 toggles bits 12, 5 and 0 (bit 0 is 0 after the shift).
 */
export function crc16(buf: Bytes, offset: number, length: number): number {
  let crc = 0xffff;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    let octet = buf[i] as number;
    for (let k = 0; k < 8; k++) {
      let feedback = crc >= 0x8000;
      if (feedback) {
        crc -= 0x8000;
      }
      if (octet >= 0x80) {
        octet -= 0x80;
        feedback = !feedback;
      }
      crc *= 2;
      octet *= 2;
      if (feedback) {
        crc += crc % 64 >= 32 ? -31 : 33;
        crc += crc % 8192 >= 4096 ? -4096 : 4096;
      }
    }
  }
  return crc;
}

/** Writes octet at out[o], escaped if it is End or Esc; returns the offset after it. */
export function slipEscape(octet: number, out: Bytes, o: number): number {
  if (octet === SlipOctet.End) {
    out[o] = SlipOctet.Esc;
    out[o + 1] = SlipOctet.EscEnd;
    return o + 2;
  }
  if (octet === SlipOctet.Esc) {
    out[o] = SlipOctet.Esc;
    out[o + 1] = SlipOctet.EscEsc;
    return o + 2;
  }
  out[o] = octet;
  return o + 1;
}

/** The octet that Esc followed by `octet` stands for, or -1 if that is no valid escape. */
export function slipUnescape(octet: number): number {
  if (octet === SlipOctet.EscEnd) {
    return SlipOctet.End;
  }
  if (octet === SlipOctet.EscEsc) {
    return SlipOctet.Esc;
  }
  return -1;
}

/** The longest frame a message of `length` octets can take: every octet and the CRC escaped, two Ends. */
export function slipMaxFrameLength(length: number): number {
  return 2 * (length + SLIP_CRC_LENGTH) + 2;
}

/**
 * Writes the frame of message[0 .. length) into out: End, the message and its CRC (high octet first)
 * escaped, End. The leading End flushes line noise at the receiver. Returns the frame's length; out
 * needs room for slipMaxFrameLength(length) octets.
 */
export function encodeSlipFrame(message: Bytes, length: number, out: Bytes): number {
  const crc = crc16(message, 0, length);
  let o = 0;
  out[o++] = SlipOctet.End;
  for (let i = 0; i < length; i++) {
    o = slipEscape(message[i] as number, out, o);
  }
  o = slipEscape(Math.floor(crc / 256), out, o);
  o = slipEscape(crc % 256, out, o);
  out[o++] = SlipOctet.End;
  return o;
}

/** True if buf[0 .. length) is a message followed by its matching CRC (at least 2 + 2 octets). */
export function slipCrcMatches(buf: Bytes, length: number): boolean {
  if (length < 2 + SLIP_CRC_LENGTH) {
    return false;
  }
  const n = length - SLIP_CRC_LENGTH;
  return crc16(buf, 0, n) === (buf[n] as number) * 256 + (buf[n + 1] as number);
}
