import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * The stateless cookie exchange of DTLS 1.2 (RFC 6347 §4.2.1): a ClientHello without a valid cookie is answered
 * with a HelloVerifyRequest whose cookie is an HMAC over the client's address and the ClientHello's parameters,
 * and nothing is kept. Only a ClientHello that returns a valid cookie (its sender receives at its address) may
 * make state. This file reads the record and handshake headers itself; it decrypts nothing.
 */

const RECORD_HEADER = 13;
const HANDSHAKE_HEADER = 12;
const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_HELLO_VERIFY_REQUEST = 3;
/** RFC 6347 §4.2.1: a DTLS 1.2 server SHOULD send HelloVerifyRequest with version DTLS 1.0 (254.255). */
const DTLS_1_0 = [0xfe, 0xff] as const;
/** client_version (2) and random (32) open the ClientHello body (RFC 5246 §7.4.1.2). */
const VERSION_AND_RANDOM = 34;

/** Where the parts of a whole, unfragmented ClientHello lie in its datagram. */
export interface ClientHelloView {
  /** The first record of the datagram: it holds the ClientHello. */
  recordLength: number;
  /** The record's sequence number (6 octets), echoed by the HelloVerifyRequest (RFC 6347 §4.2.1). */
  recordSequence: Uint8Array;
  messageSeq: number;
  /** client_version, random and session_id (with its length): the parameters the cookie covers, part one. */
  head: Uint8Array;
  /** Offset of the cookie's length octet in the datagram, and the cookie. */
  cookieAt: number;
  cookie: Uint8Array;
  /** cipher_suites and compression_methods (with their lengths): the parameters the cookie covers, part two. */
  suites: Uint8Array;
}

const uint16 = (b: Uint8Array, at: number): number => (b[at] as number) * 256 + (b[at + 1] as number);
const uint24 = (b: Uint8Array, at: number): number => (b[at] as number) * 65536 + uint16(b, at + 1);

function putUint16(b: Uint8Array, at: number, v: number): void {
  b[at] = Math.floor(v / 256) % 256;
  b[at + 1] = v % 256;
}

function putUint24(b: Uint8Array, at: number, v: number): void {
  b[at] = Math.floor(v / 65536) % 256;
  putUint16(b, at + 1, v % 65536);
}

/**
 * The ClientHello of a datagram that opens a handshake (a handshake record of epoch 0, RFC 6347 §4.1), read as
 * far as the cookie needs: undefined when it is fragmented, truncated, or not a ClientHello.
 */
export function parseClientHello(datagram: Uint8Array): ClientHelloView | undefined {
  if (datagram.length < RECORD_HEADER + HANDSHAKE_HEADER) return undefined;
  if (datagram[0] !== CONTENT_TYPE_HANDSHAKE || uint16(datagram, 3) !== 0) return undefined;
  const recordLength = uint16(datagram, 11);
  if (RECORD_HEADER + recordLength > datagram.length) return undefined;
  const h = RECORD_HEADER;
  if (datagram[h] !== HANDSHAKE_CLIENT_HELLO) return undefined;
  const length = uint24(datagram, h + 1);
  // RFC 6347 §4.2.3: fragment_offset and fragment_length; only a ClientHello in one fragment is answered.
  if (uint24(datagram, h + 6) !== 0 || uint24(datagram, h + 9) !== length) return undefined;
  if (HANDSHAKE_HEADER + length > recordLength) return undefined;
  const body = h + HANDSHAKE_HEADER;
  const end = body + length;
  let at = body + VERSION_AND_RANDOM;
  if (at + 1 > end) return undefined;
  at += 1 + (datagram[at] as number);
  const cookieAt = at;
  if (at + 1 > end) return undefined;
  at += 1 + (datagram[at] as number);
  const suitesAt = at;
  if (at + 2 > end) return undefined;
  at += 2 + uint16(datagram, at);
  if (at + 1 > end) return undefined;
  at += 1 + (datagram[at] as number);
  if (at > end) return undefined;
  return {
    recordLength,
    recordSequence: datagram.subarray(5, 11),
    messageSeq: uint16(datagram, h + 4),
    head: datagram.subarray(body, cookieAt),
    cookieAt,
    cookie: datagram.subarray(cookieAt + 1, suitesAt),
    suites: datagram.subarray(suitesAt, at),
  };
}

/**
 * The HelloVerifyRequest answering `hello` (RFC 6347 §4.2.1): one record of epoch 0 with the ClientHello's record
 * sequence number and message_seq, server_version DTLS 1.0, and the cookie.
 */
export function helloVerifyRequest(hello: ClientHelloView, cookie: Uint8Array): Buffer {
  const bodyLength = 3 + cookie.length;
  const out = Buffer.alloc(RECORD_HEADER + HANDSHAKE_HEADER + bodyLength);
  out[0] = CONTENT_TYPE_HANDSHAKE;
  out.set(DTLS_1_0, 1);
  out.set(hello.recordSequence, 5);
  putUint16(out, 11, HANDSHAKE_HEADER + bodyLength);
  const h = RECORD_HEADER;
  out[h] = HANDSHAKE_HELLO_VERIFY_REQUEST;
  putUint24(out, h + 1, bodyLength);
  putUint16(out, h + 4, hello.messageSeq);
  putUint24(out, h + 9, bodyLength);
  out.set(DTLS_1_0, h + HANDSHAKE_HEADER);
  out[h + HANDSHAKE_HEADER + 2] = cookie.length;
  out.set(cookie, h + HANDSHAKE_HEADER + 3);
  return out;
}

/**
 * The datagram's ClientHello record as the client sent it before the cookie exchange: the cookie emptied, the
 * lengths adjusted, message_seq 0 (RFC 6347 §4.2.2). The record alone; what follows it in the datagram is left out.
 */
export function withoutCookie(datagram: Uint8Array, hello: ClientHelloView): Buffer {
  const cut = hello.cookie.length;
  const record = datagram.subarray(0, RECORD_HEADER + hello.recordLength);
  const out = Buffer.concat([
    record.subarray(0, hello.cookieAt),
    Buffer.from([0]),
    record.subarray(hello.cookieAt + 1 + cut),
  ]);
  putUint16(out, 11, hello.recordLength - cut);
  const h = RECORD_HEADER;
  const length = uint24(out, h + 1) - cut;
  putUint24(out, h + 1, length);
  putUint16(out, h + 4, 0);
  putUint24(out, h + 9, length);
  return out;
}

/** A HelloVerifyRequest as the DTLS library sends it: a handshake record whose first message is of type 3. */
export function isHelloVerifyRequest(datagram: Uint8Array): boolean {
  return (
    datagram.length > RECORD_HEADER &&
    datagram[0] === CONTENT_TYPE_HANDSHAKE &&
    datagram[RECORD_HEADER] === HANDSHAKE_HELLO_VERIFY_REQUEST
  );
}

/** How long one secret makes cookies; a cookie of the secret before stays valid as long again. */
export const COOKIE_SECRET_LIFETIME_MS = 5 * 60_000;

/**
 * Cookies as RFC 6347 §4.2.1 suggests them: HMAC-SHA256 over the client's address and its ClientHello's
 * parameters (version, random, session_id, cipher_suites, compression_methods, which a client repeats unchanged
 * in its second ClientHello), under a random secret replaced every COOKIE_SECRET_LIFETIME_MS.
 */
export class CookieSecrets {
  private current = randomBytes(32);
  private previous: Buffer | undefined;
  private madeAt: number;

  constructor(now: number) {
    this.madeAt = now;
  }

  private rotate(now: number): void {
    if (now - this.madeAt < COOKIE_SECRET_LIFETIME_MS) return;
    // After a long pause both secrets are stale: a cookie of either would be older than two lifetimes.
    this.previous = now - this.madeAt < 2 * COOKIE_SECRET_LIFETIME_MS ? this.current : undefined;
    this.current = randomBytes(32);
    this.madeAt = now;
  }

  private mac(secret: Buffer, address: string, hello: ClientHelloView): Buffer {
    return createHmac("sha256", secret)
      .update(address)
      .update(Buffer.from([0]))
      .update(hello.head)
      .update(hello.suites)
      .digest();
  }

  /** The cookie for this address and ClientHello, under the current secret. */
  cookieFor(address: string, hello: ClientHelloView, now: number): Buffer {
    this.rotate(now);
    return this.mac(this.current, address, hello);
  }

  /** True when the ClientHello carries the cookie the current or the previous secret makes for it. */
  valid(address: string, hello: ClientHelloView, now: number): boolean {
    this.rotate(now);
    const given = hello.cookie;
    if (given.length !== 32) return false;
    for (const secret of [this.current, this.previous]) {
      if (secret !== undefined && timingSafeEqual(this.mac(secret, address, hello), given)) return true;
    }
    return false;
  }
}
