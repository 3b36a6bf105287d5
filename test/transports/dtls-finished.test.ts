/**
 * The client's Finished (RFC 5246 §7.4.9) proves it saw the handshake the gateway saw. werift-dtls parses it
 * without checking it; the link checks it. Shown with a party on the path that changes one ClientHello extension
 * (renegotiation_info, 0xff01, renamed to an unknown type the library ignores) of a client that does not offer the
 * extended master secret (RFC 7627): without it, the keys do not cover the transcript, so only the Finished
 * tells the gateway that the handshake was altered.
 */
import { createSocket, type Socket } from "node:dgram";
import type { DtlsClient } from "werift-dtls/lib/dtls/src/index.js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DtlsLink } from "../../transports/dtls";
import { parseHostPort } from "../../transports/udp";
import { makeDtlsCerts } from "../support/dtls-certs";
import { systemHas } from "../support/system";
import { cookieOfHello } from "./support/dtls-hello";
import { FrameQueue, publishOfLength, toHex } from "./support/frames";

const certs = systemHas(["openssl"], "apt-get install openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

const RENEGOTIATION_INFO = Buffer.from("ff01000100", "hex");

const udpSocket = (): Promise<Socket> =>
  new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => resolve(s));
  });

/**
 * A relay from a client socket to the link and back. With `tamper`, the ClientHello that carries a cookie has its
 * renegotiation_info extension renamed on the way.
 */
async function relay(
  target: { host: string; port: number },
  tamper: boolean,
): Promise<{ socket: Socket; altered: () => number }> {
  const socket = await udpSocket();
  let client: { port: number; address: string } | undefined;
  let altered = 0;
  socket.on("message", (m: Buffer, from) => {
    if (from.port === target.port) {
      if (client !== undefined) socket.send(m, client.port, client.address);
      return;
    }
    client = from;
    const at = m.indexOf(RENEGOTIATION_INFO);
    if (tamper && m[0] === 22 && m[13] === 1 && cookieOfHello(m).length > 0 && at > 0) {
      m = Buffer.from(m);
      m[at + 1] = 0x02;
      altered++;
    }
    socket.send(m, target.port, target.host);
  });
  return { socket, altered: () => altered };
}

/** A werift-dtls client without the extended master secret, through `port`; resolves once it says it is connected. */
async function connectWithoutEms(port: number): Promise<{ client: DtlsClient; close: () => void }> {
  const { DtlsClient: Client } = await import("werift-dtls/lib/dtls/src/index.js");
  const socket = await udpSocket();
  const transport = {
    type: "udp",
    address: { address: "127.0.0.1", port, family: "IPv4" },
    onData: (_data: Buffer, _addr: unknown): void => {},
    send: (data: Buffer): Promise<void> =>
      new Promise<void>((resolve) => socket.send(data, port, "127.0.0.1", () => resolve())),
    close: async (): Promise<void> => {},
  };
  socket.on("message", (m: Buffer, from) => transport.onData(m, from));
  const client: DtlsClient = new Client({ transport: transport as never, extendedMasterSecret: false });
  const connected = new Promise<void>((resolve) => client.onConnect.once(() => resolve()));
  await client.connect();
  await connected;
  return { client, close: () => socket.close() };
}

describe.skipIf(certs === undefined)("DTLS link: the client's Finished", () => {
  const c = certs as NonNullable<typeof certs>;
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  const openLink = async (): Promise<{
    link: DtlsLink;
    inbound: FrameQueue;
    target: { host: string; port: number };
  }> => {
    const inbound = new FrameQueue();
    const link = new DtlsLink({
      host: "127.0.0.1",
      port: 0,
      certPem: c.read(c.serverCertFile),
      keyPem: c.read(c.serverKeyFile),
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
    await link.open(inbound.push);
    cleanup.push(() => link.close());
    const target = parseHostPort(link.address());
    if (target === undefined) throw new Error("no address");
    return { link, inbound, target };
  };

  const until = async (what: () => boolean): Promise<void> => {
    const end = Date.now() + 5000;
    while (!what()) {
      if (Date.now() > end) throw new Error("condition not met in time");
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it("accepts the Finished of an unaltered handshake without the extended master secret", async () => {
    const { link, inbound, target } = await openLink();
    const path = await relay(target, false);
    cleanup.push(() => {
      path.socket.close();
    });
    const { client, close } = await connectWithoutEms(path.socket.address().port);
    cleanup.push(close);
    await until(() => link.stats().established === 1);
    const frame = publishOfLength(12, 1);
    await client.send(Buffer.from(frame));
    expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
    expect(link.stats().refusedFinished).toBe(0);
  });

  it("refuses a handshake altered on the path: the Finished does not match, nothing of the client passes", async () => {
    const { link, inbound, target } = await openLink();
    const path = await relay(target, true);
    cleanup.push(() => {
      path.socket.close();
    });
    const { client, close } = await connectWithoutEms(path.socket.address().port);
    cleanup.push(close);
    await until(() => link.stats().refusedFinished === 1);
    expect(path.altered()).toBe(1);
    await client.send(Buffer.from(publishOfLength(12, 2)));
    expect(await inbound.settle(300)).toBe(0);
    expect(link.stats()).toMatchObject({ established: 0, peers: 0, framesReceived: 0 });
  });
});
