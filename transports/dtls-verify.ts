import { createHash, createHmac, timingSafeEqual, verify as verifySignature, X509Certificate } from "node:crypto";

/** One handshake message as the DTLS library keeps it for the transcript (RFC 6347 §4.2.2 header + body). */
export interface CachedHandshake {
  msg_type: number;
  fragment: Buffer;
  serialize(): Buffer;
}

const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;
const HANDSHAKE_SERVER_KEY_EXCHANGE = 12;
const HANDSHAKE_CERTIFICATE_VERIFY = 15;
/** RFC 5246 §7.4: HandshakeType finished. */
export const HANDSHAKE_FINISHED = 20;
/** RFC 5246 §7.4.9: verify_data_length of the cipher suites the link offers. */
const VERIFY_DATA_LENGTH = 12;

/** RFC 5246 §7.4.1.4.1 HashAlgorithm codes → the names node:crypto knows. */
const HASHES: Record<number, string> = { 2: "sha1", 4: "sha256", 5: "sha384", 6: "sha512" };

/** Every certificate of a PEM bundle (a CA file may hold several). */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/**
 * Why a peer's certificate (DER) is not trusted, or undefined when one of `authorities` issued and signed it
 * and it is within its validity period. Only certificates issued directly by a listed authority are accepted:
 * the peer's chain is not walked.
 */
export function untrustedReason(
  der: Buffer | undefined,
  authorities: X509Certificate[],
  now: Date,
): string | undefined {
  if (der === undefined) return "no certificate";
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    return `unreadable certificate: ${(err as Error).message}`;
  }
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return "certificate outside its validity period";
  const issuer = authorities.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  return issuer === undefined ? "certificate not issued by a trusted authority" : undefined;
}

function signatureValid(hashCode: number, data: Buffer, certificate: Buffer, signature: Buffer): boolean {
  const hash = HASHES[hashCode];
  if (hash === undefined) return false;
  try {
    return verifySignature(hash, data, new X509Certificate(certificate).publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * RFC 5246 §7.4.8: the client's CertificateVerify must be a signature, by the key of the certificate it sent,
 * over every handshake message before it. Proves the client holds that certificate's private key.
 */
export function certificateVerifyValid(transcript: CachedHandshake[], certificate: Buffer): boolean {
  const at = transcript.findIndex((m) => m.msg_type === HANDSHAKE_CERTIFICATE_VERIFY);
  const message = transcript[at];
  if (message === undefined) return false;
  const body = message.fragment;
  if (body.length < 4) return false;
  const length = body.readUInt16BE(2);
  if (body.length < 4 + length) return false;
  const signed = Buffer.concat(transcript.slice(0, at).map((m) => m.serialize()));
  return signatureValid(body[0] as number, signed, certificate, body.subarray(4, 4 + length));
}

/**
 * RFC 4492 §5.4: the ServerKeyExchange's ECDH parameters must be signed, with the key of the server's
 * certificate, together with both hello randoms. Proves the server holds that certificate's private key.
 */
export function serverKeyExchangeValid(transcript: CachedHandshake[], certificate: Buffer): boolean {
  const clientHello = transcript.find((m) => m.msg_type === HANDSHAKE_CLIENT_HELLO);
  const serverHello = transcript.find((m) => m.msg_type === HANDSHAKE_SERVER_HELLO);
  const exchange = transcript.find((m) => m.msg_type === HANDSHAKE_SERVER_KEY_EXCHANGE);
  if (clientHello === undefined || serverHello === undefined || exchange === undefined) return false;
  const body = exchange.fragment;
  // ECParameters: curve_type (named_curve = 3), NamedCurve (2 octets), then the point with a 1-octet length.
  if (body.length < 4 || body[0] !== 3) return false;
  const paramsLength = 4 + (body[3] as number);
  if (body.length < paramsLength + 4) return false;
  const signatureLength = body.readUInt16BE(paramsLength + 2);
  if (body.length < paramsLength + 4 + signatureLength) return false;
  const signed = Buffer.concat([
    clientHello.fragment.subarray(2, 34),
    serverHello.fragment.subarray(2, 34),
    body.subarray(0, paramsLength),
  ]);
  const signature = body.subarray(paramsLength + 4, paramsLength + 4 + signatureLength);
  return signatureValid(body[paramsLength] as number, signed, certificate, signature);
}

/**
 * RFC 5246 §5: PRF(secret, label, seed) with P_SHA256, the PRF of every TLS 1.2 cipher suite whose name ends in
 * SHA256 (both suites the link negotiates), cut to `length` octets.
 */
function prfSha256(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, "ascii"), seed]);
  const hmac = (data: Buffer): Buffer => createHmac("sha256", secret).update(data).digest();
  const out: Buffer[] = [];
  let a: Buffer = labelSeed;
  for (let made = 0; made < length; made += 32) {
    a = hmac(a);
    out.push(hmac(Buffer.concat([a, labelSeed])));
  }
  return Buffer.concat(out).subarray(0, length);
}

/**
 * RFC 5246 §7.4.9 (RFC 6347 §4.2.6 for the DTLS transcript): a Finished carries
 * PRF(master_secret, label, SHA-256(every handshake message before it)), 12 octets.
 */
function verifyDataValid(
  before: CachedHandshake[],
  masterSecret: Buffer | undefined,
  label: string,
  verifyData: Buffer,
): boolean {
  if (masterSecret === undefined || verifyData.length !== VERIFY_DATA_LENGTH) return false;
  const hash = createHash("sha256")
    .update(Buffer.concat(before.map((m) => m.serialize())))
    .digest();
  return timingSafeEqual(prfSha256(masterSecret, label, hash, VERIFY_DATA_LENGTH), verifyData);
}

/**
 * RFC 5246 §7.4.9: the client's Finished ("client finished") covers every handshake message before it. Proves
 * that the client saw the handshake the server saw (nothing on the path changed a message) and derived the same
 * master secret. `transcript` is the server's, the client's Finished in it.
 */
export function clientFinishedValid(transcript: CachedHandshake[], masterSecret: Buffer | undefined): boolean {
  const at = transcript.findIndex((m) => m.msg_type === HANDSHAKE_FINISHED);
  const finished = transcript[at];
  if (finished === undefined) return false;
  return verifyDataValid(transcript.slice(0, at), masterSecret, "client finished", finished.fragment);
}

/**
 * RFC 5246 §7.4.9: the server's Finished ("server finished") covers every handshake message before it, the
 * client's Finished included. Proves to the client that the server saw the handshake it saw. `transcript` is the
 * client's, ending with its own Finished; `verifyData` is the body of the server's Finished.
 */
export function serverFinishedValid(
  transcript: CachedHandshake[],
  verifyData: Buffer,
  masterSecret: Buffer | undefined,
): boolean {
  if (transcript.at(-1)?.msg_type !== HANDSHAKE_FINISHED) return false;
  return verifyDataValid(transcript, masterSecret, "server finished", verifyData);
}
