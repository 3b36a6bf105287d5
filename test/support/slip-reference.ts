/**
 * A reference of hardware/serial-framing.md written straight from the page (the C CRC, the escaping
 * rules) with bitwise operators and allocation, to check the portable framing of protocol/slip.ts against.
 */
export function referenceCrc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const octet of bytes) {
    crc ^= octet << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function referenceSlipFrame(message: Uint8Array): Uint8Array {
  const crc = referenceCrc16(message);
  const body = [...message, crc >> 8, crc & 0xff];
  const out = [0xc0];
  for (const octet of body) {
    if (octet === 0xc0) out.push(0xdb, 0xdc);
    else if (octet === 0xdb) out.push(0xdb, 0xdd);
    else out.push(octet);
  }
  out.push(0xc0);
  return Uint8Array.from(out);
}
