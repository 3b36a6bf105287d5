/**
 * The client's Finished (RFC 5246 §7.4.9) proves it saw the handshake the gateway saw. werift-dtls parses it
 * without checking it; the link checks it. Shown with a party on the path that changes one ClientHello extension
 * (renegotiation_info, 0xff01, renamed to an unknown type the library ignores) of a client that does not offer the
 * extended master secret (RFC 7627): without it, the keys do not cover the transcript, so only the Finished
 * tells the gateway that the handshake was altered.
 */
import type { DtlsClient } from "werift-dtls/lib/dtls/src/index.js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { makeDtlsCerts } from "../support/dtls-certs";
import { systemHas } from "../support/system";
import { cookieOfHello } from "./support/dtls-hello";
import { until } from "./support/capture-log";
import { openTestLink, relay, udpSocket } from "./support/dtls-path";
import { publishOfLength, toHex } from "./support/frames";

const certs = systemHas(["openssl"], "apt-get install openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

const RENEGOTIATION_INFO = Buffer.from("ff01000100", "hex");

/** With `tamper`, the ClientHello that carries a cookie has its renegotiation_info extension renamed on the way. */
const renaming = (tamper: boolean) =>
  tamper
    ? {
        toTarget: (m: Buffer) => {
          const at = m.indexOf(RENEGOTIATION_INFO);
          if (!(m[0] === 22 && m[13] === 1 && cookieOfHello(m).length > 0 && at > 0)) return undefined;
          const out = Buffer.from(m);
          out[at + 1] = 0x02;
          return out;
        },
      }
    : {};

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

  it("accepts the Finished of an unaltered handshake without the extended master secret", async () => {
    const { link, inbound, target } = await openTestLink(c, cleanup);
    const path = await relay(target, renaming(false));
    cleanup.push(() => {
      path.socket.close();
    });
    const { client, close } = await connectWithoutEms(path.port);
    cleanup.push(close);
    await until(() => link.stats().established === 1, 5000, "the handshake to complete");
    const frame = publishOfLength(12, 1);
    await client.send(Buffer.from(frame));
    expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
    expect(link.stats().refusedFinished).toBe(0);
  });

  it("refuses a handshake altered on the path: the Finished does not match, nothing of the client passes", async () => {
    const { link, inbound, target } = await openTestLink(c, cleanup);
    const path = await relay(target, renaming(true));
    cleanup.push(() => {
      path.socket.close();
    });
    const { client, close } = await connectWithoutEms(path.port);
    cleanup.push(close);
    await until(() => link.stats().refusedFinished === 1, 5000, "the link to refuse the Finished");
    expect(path.altered()).toBe(1);
    await client.send(Buffer.from(publishOfLength(12, 2)));
    expect(await inbound.settle(300)).toBe(0);
    expect(link.stats()).toMatchObject({ established: 0, peers: 0, framesReceived: 0 });
  });
});
