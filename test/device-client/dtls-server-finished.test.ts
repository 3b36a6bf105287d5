/**
 * The gateway's Finished (RFC 5246 §7.4.9) proves to the device that the gateway saw the handshake the device saw.
 * werift-dtls takes it as the end of the handshake without checking it; the Node device client checks it. Shown
 * with a party on the path that strips the extended master secret (RFC 7627): it renames the extension (type
 * 0x0017) in the ClientHello that carries the cookie and in the ServerHello, so neither side sees the other offer
 * it. Without it the keys do not cover the transcript: both sides derive the same keys from the key exchange
 * alone, the handshake completes, and only the Finished messages tell either side that it was altered. The link
 * refuses the device's Finished (after sending its own); the device must refuse the gateway's.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDtlsSession } from "../../device-client/node/dtls-session";
import { makeDtlsCerts } from "../support/dtls-certs";
import { systemHas } from "../support/system";
import { cookieOfHello } from "../transports/support/dtls-hello";
import { until } from "../transports/support/capture-log";
import { openTestLink, relay } from "../transports/support/dtls-path";
import { publishOfLength, toHex } from "../transports/support/frames";

const certs = systemHas(["openssl"], "apt-get install openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

/** RFC 6347 §4.1 record header and §4.2.2 handshake header, in octets. */
const RECORD = 13;
const HANDSHAKE = 12;
const EXTENDED_MASTER_SECRET = 0x0017;
/** A type no one has assigned, which the library skips. */
const UNKNOWN_EXTENSION = 0x7e17;

/**
 * Where the type of the extended_master_secret extension lies in a datagram whose first record is a ClientHello or
 * a ServerHello (RFC 5246 §7.4.1.2 and §7.4.1.3: version, random, session_id, the ClientHello's cookie, cipher
 * suites, compression methods, then the extensions), or -1.
 */
function extendedMasterSecretAt(m: Buffer): number {
  const client = m[RECORD] === 1;
  let at = RECORD + HANDSHAKE + 2 + 32;
  at += 1 + (m[at] as number);
  if (client) {
    at += 1 + (m[at] as number);
    at += 2 + m.readUInt16BE(at);
    at += 1 + (m[at] as number);
  } else {
    at += 3;
  }
  const end = Math.min(at + 2 + m.readUInt16BE(at), RECORD + m.readUInt16BE(11));
  for (at += 2; at + 4 <= end; at += 4 + m.readUInt16BE(at + 2)) {
    if (m.readUInt16BE(at) === EXTENDED_MASTER_SECRET) return at;
  }
  return -1;
}

const firstHandshakeIs = (m: Buffer, type: number): boolean => m[0] === 22 && m[RECORD] === type;

/** A copy of `m` with its extended_master_secret extension renamed, or undefined when it has none. */
function withoutExtendedMasterSecret(m: Buffer): Buffer | undefined {
  const at = extendedMasterSecretAt(m);
  if (at < 0) return undefined;
  const out = Buffer.from(m);
  out.writeUInt16BE(UNKNOWN_EXTENSION, at);
  return out;
}

/**
 * With `tamper`, the extended_master_secret extension is renamed in the ClientHello that carries a cookie and in
 * the ServerHello, so that neither side sees the other offer it.
 */
const stripping = (tamper: boolean) =>
  tamper
    ? {
        toTarget: (m: Buffer) =>
          firstHandshakeIs(m, 1) && cookieOfHello(m).length > 0 ? withoutExtendedMasterSecret(m) : undefined,
        fromTarget: (m: Buffer) => (firstHandshakeIs(m, 2) ? withoutExtendedMasterSecret(m) : undefined),
      }
    : {};

describe.skipIf(certs === undefined)("Node device client over DTLS: the gateway's Finished", () => {
  const c = certs as NonNullable<typeof certs>;
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("accepts the gateway's Finished of an unaltered handshake through the relay", async () => {
    const { link, inbound, target } = await openTestLink(c, cleanup);
    const path = await relay(target, stripping(false));
    cleanup.push(() => {
      path.socket.close();
    });
    const session = await openDtlsSession({ host: "127.0.0.1", port: path.port, timeoutMs: 5000 });
    cleanup.push(() => session.close());
    const frame = publishOfLength(12, 1);
    await session.send(frame);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
    expect(path.altered()).toBe(0);
    expect(link.stats().refusedFinished).toBe(0);
  });

  it("refuses a handshake whose hellos were altered on the path: the gateway's Finished does not match", async () => {
    const { link, inbound, target } = await openTestLink(c, cleanup);
    const path = await relay(target, stripping(true));
    cleanup.push(() => {
      path.socket.close();
    });
    const attempt = openDtlsSession({ host: "127.0.0.1", port: path.port, timeoutMs: 5000 });
    await expect(attempt).rejects.toThrow("gateway not trusted: its Finished message does not match the handshake");
    expect(path.altered()).toBe(2);
    await until(() => link.stats().refusedFinished === 1, 5000, "the link to refuse the Finished");
    expect(await inbound.settle(300)).toBe(0);
    expect(link.stats()).toMatchObject({ established: 0, peers: 0, framesReceived: 0 });
  });
});
