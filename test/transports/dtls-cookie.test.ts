import { spawn } from "node:child_process";
import type { Socket } from "node:dgram";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDtlsSession } from "../../device-client/node/dtls-session";
import { DtlsLink } from "../../transports/dtls";
import {
  COOKIE_SECRET_LIFETIME_MS,
  CookieSecrets,
  helloVerifyRequest,
  parseClientHello,
  withoutCookie,
  type ClientHelloView,
} from "../../transports/dtls-cookie";
import { parseHostPort } from "../../transports/udp";
import { makeDtlsCerts } from "../support/dtls-certs";
import { systemHas } from "../support/system";
import { clientHellos, cookieOfHello, cookieOfVerifyRequest, helloWithCookie, udpSocket } from "./support/dtls-hello";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function parsed(datagram: Buffer | undefined): ClientHelloView {
  const hello = datagram === undefined ? undefined : parseClientHello(datagram);
  if (hello === undefined) throw new Error(`not a ClientHello: ${datagram === undefined ? "nothing" : hex(datagram)}`);
  return hello;
}

describe("DTLS cookie exchange (RFC 6347 §4.2.1)", () => {
  it("a real client answers the link's HelloVerifyRequest with the cookie and the parameters of its first ClientHello", async () => {
    const cookie = Buffer.alloc(32, 0x5a);
    const { first, second } = await clientHellos((h) => helloVerifyRequest(parsed(h), cookie));
    expect(parsed(first).cookie.length).toBe(0);
    const again = parsed(second);
    expect(hex(again.cookie)).toBe(hex(cookie));
    const answered = second as Buffer;
    // Without its cookie the second ClientHello is the first one (record sequence number aside: octets 5 to 10).
    const stripped = withoutCookie(answered, again);
    expect(hex(stripped.subarray(0, 5)) + hex(stripped.subarray(11))).toBe(
      hex(first.subarray(0, 5)) + hex(first.subarray(11)),
    );
    // The tests' own maker of answered ClientHellos agrees with the real client.
    expect(hex(helloWithCookie(first, cookie).subarray(11))).toBe(hex(answered.subarray(11)));
  });

  it("answers with one record: the ClientHello's record sequence number and message_seq, server_version DTLS 1.0", async () => {
    const { first } = await clientHellos();
    const sequenced = Buffer.from(first);
    sequenced.set([0, 0, 0, 0, 0, 9], 5);
    const answer = helloVerifyRequest(parsed(sequenced), Buffer.from([1, 2, 3]));
    expect(hex(answer)).toBe(
      "16" +
        "feff" +
        "0000" +
        "000000000009" +
        "0012" + // record: handshake, DTLS 1.0, epoch 0, sequence 9, length 18
        "03" +
        "000006" +
        "0000" +
        "000000" +
        "000006" + // hello_verify_request, length 6, message_seq 0, one fragment
        "feff" +
        "03" +
        "010203", // server_version, cookie
    );
  });

  it("reads only a whole, unfragmented ClientHello", async () => {
    const { first } = await clientHellos();
    expect(parseClientHello(first.subarray(0, first.length - 1))).toBeUndefined();
    const fragment = Buffer.from(first);
    fragment.writeUIntBE(fragment.readUIntBE(13 + 9, 3) - 1, 13 + 9, 3);
    expect(parseClientHello(fragment)).toBeUndefined();
    const epoch1 = Buffer.from(first);
    epoch1[4] = 1;
    expect(parseClientHello(epoch1)).toBeUndefined();
  });

  it("binds a cookie to the address and the ClientHello's parameters, for one secret change but not two", async () => {
    const { first } = await clientHellos();
    const secrets = new CookieSecrets(0);
    const cookie = secrets.cookieFor("127.0.0.1:5000", parsed(first), 0);
    const answered = parsed(helloWithCookie(first, cookie));
    expect(secrets.valid("127.0.0.1:5000", answered, 1000)).toBe(true);
    expect(secrets.valid("127.0.0.1:5001", answered, 1000)).toBe(false);
    expect(secrets.valid("127.0.0.2:5000", answered, 1000)).toBe(false);
    const otherRandom = Buffer.from(first);
    otherRandom[13 + 12 + 2] = (otherRandom[13 + 12 + 2] as number) ^ 0xff;
    expect(secrets.valid("127.0.0.1:5000", parsed(helloWithCookie(otherRandom, cookie)), 1000)).toBe(false);
    expect(secrets.valid("127.0.0.1:5000", parsed(first), 1000)).toBe(false);
    expect(secrets.valid("127.0.0.1:5000", answered, COOKIE_SECRET_LIFETIME_MS + 1)).toBe(true);
    expect(secrets.valid("127.0.0.1:5000", answered, 2 * COOKIE_SECRET_LIFETIME_MS + 2)).toBe(false);
  });
});

const certs = systemHas(["openssl"], "apt-get install openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

/** §5.4.4 CONNECT (CleanSession, Duration 60 s, ClientId "ossl-c") and §5.4.5 CONNACK Accepted. */
const CONNECT = Buffer.from("0c04040100" + "3c" + Buffer.from("ossl-c").toString("hex"), "hex");
const CONNACK = Buffer.from("030500", "hex");

/** openssl s_client over DTLS 1.2: sends CONNECT once the handshake is done; resolves with what it printed. */
function opensslConnect(port: number, c: NonNullable<typeof certs>): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(
      "openssl",
      [
        ...["s_client", "-dtls1_2", "-connect", `127.0.0.1:${port}`, "-quiet", "-ign_eof"],
        ...["-CAfile", c.caFile, "-cert", c.clientCertFile, "-key", c.clientKeyFile],
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const out: Buffer[] = [];
    let err = "";
    const finish = (): void => {
      clearTimeout(timer);
      child.kill();
      resolve(Buffer.concat(out).toString("hex"));
    };
    const timer = setTimeout(finish, 15_000);
    child.stderr.on("data", (d: Buffer) => {
      const before = err;
      err += d.toString();
      if (!/verify return|CONNECTED/i.test(before) && /verify return|CONNECTED/i.test(err)) child.stdin.write(CONNECT);
    });
    child.stdout.on("data", (d: Buffer) => {
      out.push(d);
      if (Buffer.concat(out).length >= CONNACK.length) finish();
    });
    child.on("exit", finish);
  });
}

describe.skipIf(certs === undefined)("DTLS link under a flood of ClientHellos without cookies", () => {
  const c = certs as NonNullable<typeof certs>;
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("holds no peer for them, even with room for one peer only, and openssl s_client still gets its CONNACK", async () => {
    const { first: hello } = await clientHellos();
    const link = new DtlsLink({
      host: "127.0.0.1",
      port: 0,
      certPem: c.read(c.serverCertFile),
      keyPem: c.read(c.serverKeyFile),
      caPem: c.read(c.caFile),
      maxPeers: 1,
    });
    const frames: string[] = [];
    await link.open((frame, address) => {
      frames.push(hex(frame));
      link.send(address, CONNACK);
    });
    cleanup.push(() => link.close());
    const target = parseHostPort(link.address());
    if (target === undefined) throw new Error("no address");

    // 50 sources, each its own loopback address (127.0.0.2 …): what spoofed senders would be, except that these
    // can read the answers, which are counted.
    const sources: Socket[] = [];
    for (let i = 2; i < 52; i++) sources.push(await udpSocket(`127.0.0.${i}`));
    cleanup.push(() => {
      for (const s of sources) s.close();
    });
    let answers = 0;
    for (const s of sources)
      s.on("message", (m: Buffer) => {
        if (cookieOfVerifyRequest(m).length === 32) answers++;
      });
    const round = (): void => {
      for (const s of sources) s.send(hello, target.port, target.host);
    };
    let peersSeen = 0;
    for (let i = 0; i < 10; i++) {
      round();
      await new Promise((r) => setTimeout(r, 20));
      peersSeen = Math.max(peersSeen, link.stats().peers);
    }
    while (link.stats().helloVerifyRequests < 500) await new Promise((r) => setTimeout(r, 10));
    expect(peersSeen).toBe(0);
    expect(link.stats().peers).toBe(0);

    // The flood goes on while a real client handshakes.
    const flood = setInterval(round, 20);
    cleanup.push(() => clearInterval(flood));
    const printed = await opensslConnect(target.port, c);
    clearInterval(flood);
    expect(printed).toBe(hex(CONNACK));
    expect(frames).toEqual([hex(CONNECT)]);
    const stats = link.stats();
    expect(stats.established).toBe(1);
    expect(stats.peers).toBe(1);
    expect(stats.refusedTableFull).toBe(0);
    expect(answers).toBeGreaterThanOrEqual(500);
    // The flood's ClientHello never carried a cookie.
    expect(cookieOfHello(hello).length).toBe(0);
  });

  it("keeps an established session when its address sends a ClientHello without a cookie; one with a valid cookie starts over (§4.2.8)", async () => {
    const link = new DtlsLink({
      host: "127.0.0.1",
      port: 0,
      certPem: c.read(c.serverCertFile),
      keyPem: c.read(c.serverKeyFile),
      caPem: c.read(c.caFile),
    });
    await link.open(() => undefined);
    cleanup.push(() => link.close());
    const target = parseHostPort(link.address());
    if (target === undefined) throw new Error("no address");
    const session = await openDtlsSession({
      host: target.host,
      port: target.port,
      certPem: c.read(c.clientCertFile),
      keyPem: c.read(c.clientKeyFile),
    });
    while (link.stats().established < 1) await new Promise((r) => setTimeout(r, 10));
    const answered = link.stats().helloVerifyRequests;
    // The device's address, taken over by a sender that speaks raw datagrams (the device restarted, or a forger).
    session.close();
    const { first: hello } = await clientHellos();
    const same = await udpSocket("127.0.0.1", session.localPort);
    cleanup.push(() => {
      same.close();
    });
    const verify = new Promise<Buffer>((resolve) => same.once("message", (m: Buffer) => resolve(m)));
    same.send(hello, target.port, target.host);
    const cookie = cookieOfVerifyRequest(await verify);
    expect(cookie.length).toBe(32);
    expect(link.stats()).toMatchObject({ peers: 1, established: 1, helloVerifyRequests: answered + 1 });
    same.send(helloWithCookie(hello, cookie), target.port, target.host);
    while (link.stats().established > 0) await new Promise((r) => setTimeout(r, 10));
    expect(link.stats()).toMatchObject({ peers: 1, established: 0, helloVerifyRequests: answered + 1 });
  });
});
