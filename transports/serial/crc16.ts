/**
 * CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final xor.
 * The check value (CRC of the ASCII octets "123456789") is 0x29B1.
 */
export function crc16CcittFalse(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
  let crc = 0xffff;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    crc ^= (bytes[i] as number) << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}
