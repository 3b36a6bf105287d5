import { createSocket, type Socket } from "node:dgram";
import { openDtlsSession } from "../../../device-client/node/dtls-session";

/**
 * ClientHellos and HelloVerifyRequests as a test reads and makes them, from the byte layout of RFC 6347 §4.1
 * (record header: 13 octets), §4.2.2 (handshake header: 12 octets) and §4.2.1 (the cookie after client_version,
 * random and session_id). Independent of the link's own reader.
 */
const RECORD = 13;
const HANDSHAKE = 12;

export const udpSocket = (host = "127.0.0.1", port = 0): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    s.once("error", reject);
    s.bind(port, host, () => resolve(s));
  });

/** The first datagrams a real DTLS client (the Node device client) sends to a socket that answers with `reply`. */
export async function clientHellos(
  reply?: (hello: Buffer) => Buffer,
): Promise<{ first: Buffer; second: Buffer | undefined }> {
  const sink = await udpSocket();
  const got: Buffer[] = [];
  const done = new Promise<void>((resolve) =>
    sink.on("message", (m: Buffer, from) => {
      got.push(m);
      if (got.length === 1 && reply !== undefined) sink.send(reply(m), from.port, from.address);
      if (got.length === (reply === undefined ? 1 : 2)) resolve();
    }),
  );
  const attempt = openDtlsSession({ host: "127.0.0.1", port: sink.address().port, timeoutMs: 500 }).catch(
    () => undefined,
  );
  await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
  await attempt;
  sink.close();
  return { first: got[0] as Buffer, second: got[1] };
}

/** Where the cookie's length octet lies in a datagram holding one ClientHello. */
function cookieOffset(hello: Buffer): number {
  const sessionIdAt = RECORD + HANDSHAKE + 2 + 32;
  return sessionIdAt + 1 + (hello[sessionIdAt] as number);
}

/** The cookie a ClientHello carries. */
export function cookieOfHello(hello: Buffer): Buffer {
  const at = cookieOffset(hello);
  return hello.subarray(at + 1, at + 1 + (hello[at] as number));
}

/** The cookie of a HelloVerifyRequest: after its server_version. */
export function cookieOfVerifyRequest(datagram: Buffer): Buffer {
  const at = RECORD + HANDSHAKE + 2;
  return datagram.subarray(at + 1, at + 1 + (datagram[at] as number));
}

/** A cookie-less ClientHello sent again with this cookie, as a client answers a HelloVerifyRequest. */
export function helloWithCookie(hello: Buffer, cookie: Buffer): Buffer {
  const at = cookieOffset(hello);
  const out = Buffer.concat([hello.subarray(0, at), Buffer.from([cookie.length]), cookie, hello.subarray(at + 1)]);
  out.writeUInt16BE(out.length - RECORD, 11);
  const length = out.length - RECORD - HANDSHAKE;
  out.writeUIntBE(length, RECORD + 1, 3);
  out.writeUInt16BE(1, RECORD + 4);
  out.writeUIntBE(length, RECORD + 9, 3);
  return out;
}
