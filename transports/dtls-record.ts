/**
 * What a datagram must look like to be a DTLS 1.x record (RFC 6347 §4.1): a content type of
 * change_cipher_spec, alert, handshake or application_data, then a protocol version of 0xFEFF (DTLS 1.0)
 * or 0xFEFD (DTLS 1.2), epoch, sequence number and length: 13 octets before the fragment.
 */
const RECORD_HEADER_LENGTH = 13;
const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;

export function isDtlsRecord(datagram: Uint8Array): boolean {
  if (datagram.length < RECORD_HEADER_LENGTH) return false;
  const type = datagram[0] as number;
  if (type < 20 || type > 23) return false;
  return datagram[1] === 0xfe && (datagram[2] === 0xff || datagram[2] === 0xfd);
}

/**
 * A record that opens a handshake: a handshake record of epoch 0 carrying a ClientHello (RFC 6347 §4.2.1).
 * Only such a datagram may create state for an unknown peer.
 */
export function isClientHello(datagram: Uint8Array): boolean {
  if (!isDtlsRecord(datagram) || datagram[0] !== CONTENT_TYPE_HANDSHAKE) return false;
  if (datagram[3] !== 0 || datagram[4] !== 0) return false;
  return datagram[RECORD_HEADER_LENGTH] === HANDSHAKE_CLIENT_HELLO;
}
