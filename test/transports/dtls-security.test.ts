import { createSocket, type Socket } from "node:dgram";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDtlsSession } from "../../device-client/node/dtls-session";
import { DtlsLink } from "../../transports/dtls";
import { parseHostPort } from "../../transports/udp";
import { makeDtlsCerts } from "../support/dtls-certs";
import { systemHas } from "../support/system";
import { cookieOfVerifyRequest, helloWithCookie } from "./support/dtls-hello";
import { FrameQueue, publishOfLength, toHex } from "./support/frames";

const certs = systemHas(["openssl"], "apt-get install openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

const until = async (what: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

const udpSocket = (): Promise<Socket> =>
  new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => resolve(s));
  });

/** The first datagram a real DTLS client sends: its ClientHello, caught by a socket that never answers. */
async function captureClientHello(): Promise<Buffer> {
  const sink = await udpSocket();
  const first = new Promise<Buffer>((resolve) => sink.once("message", (m: Buffer) => resolve(m)));
  const attempt = openDtlsSession({ host: "127.0.0.1", port: sink.address().port, timeoutMs: 300 }).catch(
    () => undefined,
  );
  const hello = await first;
  await attempt;
  sink.close();
  return hello;
}

describe.skipIf(certs === undefined)("DTLS link: who gets in", () => {
  const c = certs as NonNullable<typeof certs>;
  let link: DtlsLink | undefined;
  afterEach(async () => {
    await link?.close();
    link = undefined;
  });

  const openLink = async (extra: Partial<ConstructorParameters<typeof DtlsLink>[0]> = {}) => {
    const inbound = new FrameQueue();
    link = new DtlsLink({
      host: "127.0.0.1",
      port: 0,
      certPem: c.read(c.serverCertFile),
      keyPem: c.read(c.serverKeyFile),
      caPem: c.read(c.caFile),
      ...extra,
    });
    await link.open(inbound.push);
    const target = parseHostPort(link.address());
    if (target === undefined) throw new Error("no address");
    return { link, inbound, target };
  };

  it("refuses a client whose certificate another authority issued, and delivers nothing from it", async () => {
    const { link, inbound, target } = await openLink();
    const session = await openDtlsSession({
      host: target.host,
      port: target.port,
      certPem: c.read(c.strangerCertFile),
      keyPem: c.read(c.strangerKeyFile),
    });
    await until(() => link.stats().refusedCertificate === 1);
    await session.send(publishOfLength(12, 1));
    expect(await inbound.settle(300)).toBe(0);
    expect(link.stats().established).toBe(0);
    expect(link.send(`127.0.0.1:${session.localPort}`, publishOfLength(12, 2))).toBe(false);
    session.close();
  });

  it("refuses a client that shows a certificate the CA issued without holding its key", async () => {
    const { link, inbound, target } = await openLink();
    const session = await openDtlsSession({
      host: target.host,
      port: target.port,
      certPem: c.read(c.clientCertFile),
      keyPem: c.read(c.strangerKeyFile),
    });
    await until(() => link.stats().refusedCertificate === 1);
    await session.send(publishOfLength(12, 5));
    expect(await inbound.settle(300)).toBe(0);
    expect(link.stats().established).toBe(0);
    session.close();
  });

  it("refuses a client without a certificate", async () => {
    const { link, target } = await openLink({ handshakeTimeoutMs: 200 });
    await expect(openDtlsSession({ host: target.host, port: target.port, timeoutMs: 1500 })).rejects.toThrow();
    expect(link.stats().established).toBe(0);
  });

  it("accepts a client the CA issued, and its frames arrive", async () => {
    const { link, inbound, target } = await openLink();
    const session = await openDtlsSession({
      host: target.host,
      port: target.port,
      caPem: c.read(c.caFile),
      certPem: c.read(c.clientCertFile),
      keyPem: c.read(c.clientKeyFile),
    });
    await until(() => link.stats().established === 1);
    const frame = publishOfLength(12, 3);
    await session.send(frame);
    const got = await inbound.next();
    expect(toHex(got.frame)).toBe(toHex(frame));
    expect(got.address).toBe(`127.0.0.1:${session.localPort}`);
    session.close();
  });

  it("a device that trusts another CA refuses the gateway", async () => {
    const { target } = await openLink({ caPem: undefined as unknown as string });
    await expect(
      openDtlsSession({ host: target.host, port: target.port, caPem: c.read(c.strangerCertFile) }),
    ).rejects.toThrow(/gateway not trusted/);
  });

  it("drops and counts a plaintext MQTT-SN datagram sent to the DTLS port", async () => {
    const { link, inbound, target } = await openLink();
    const plain = await udpSocket();
    plain.send(publishOfLength(12, 4), target.port, target.host);
    await until(() => link.stats().droppedPlaintext === 1);
    expect(await inbound.settle(200)).toBe(0);
    expect(link.stats().peers).toBe(0);
    plain.close();
  });

  it("holds at most maxPeers of senders that return their cookie and never finish, forgets them after the handshake timeout, then serves a real client", async () => {
    const hello = await captureClientHello();
    const { link, target } = await openLink({ maxPeers: 8, handshakeTimeoutMs: 300 });
    const flooders = await Promise.all(Array.from({ length: 40 }, () => udpSocket()));
    // Each answers the HelloVerifyRequest with its cookie (RFC 6347 §4.2.1), then stays silent.
    for (const s of flooders)
      s.once("message", (m: Buffer) =>
        s.send(helloWithCookie(hello, cookieOfVerifyRequest(m)), target.port, target.host),
      );
    for (const s of flooders) s.send(hello, target.port, target.host);
    await until(() => link.stats().peers + link.stats().refusedTableFull === 40);
    expect(link.stats().peers).toBe(8);
    expect(link.stats().refusedTableFull).toBe(32);
    await until(() => link.stats().peers === 0);
    expect(link.stats().expired).toBe(8);
    for (const s of flooders) s.close();
    const session = await openDtlsSession({
      host: target.host,
      port: target.port,
      certPem: c.read(c.clientCertFile),
      keyPem: c.read(c.clientKeyFile),
    });
    await until(() => link.stats().established === 1);
    session.close();
  });

  it("delivers a captured record once: a replay from the same address is dropped and counted", async () => {
    const { link, inbound, target } = await openLink();
    // A relay between the device and the link, as an attacker on the path would sit: it forwards both ways and
    // keeps what the device sent.
    const relay = await udpSocket();
    const sent: Buffer[] = [];
    let device: { port: number; address: string } | undefined;
    relay.on("message", (m: Buffer, from) => {
      if (from.port === target.port) {
        if (device !== undefined) relay.send(m, device.port, device.address);
        return;
      }
      device = from;
      sent.push(m);
      relay.send(m, target.port, target.host);
    });
    const session = await openDtlsSession({
      host: "127.0.0.1",
      port: relay.address().port,
      certPem: c.read(c.clientCertFile),
      keyPem: c.read(c.clientKeyFile),
    });
    await until(() => link.stats().established === 1);
    const frame = publishOfLength(12, 6);
    await session.send(frame);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
    const captured = sent[sent.length - 1] as Buffer;
    expect(captured[0]).toBe(23);
    relay.send(captured, target.port, target.host);
    await until(() => link.stats().droppedReplay === 1);
    expect(await inbound.settle(200)).toBe(0);
    const next = publishOfLength(12, 7);
    await session.send(next);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(next));
    session.close();
    relay.close();
  });

  it("drops records from an unknown address that do not open a handshake", async () => {
    const hello = await captureClientHello();
    const { link, target } = await openLink();
    const s = await udpSocket();
    const notHello = Buffer.from(hello);
    notHello[0] = 23;
    s.send(notHello, target.port, target.host);
    await until(() => link.stats().droppedUnknownPeer === 1);
    expect(link.stats().peers).toBe(0);
    s.close();
  });
});
