/**
 * A DTLS link on 127.0.0.1 and a party on the path to it: a UDP relay between one peer and the link that may
 * alter the datagrams it passes, for tests that show a handshake altered on the way is refused.
 */
import { createSocket, type Socket } from "node:dgram";
import { DtlsLink } from "../../../transports/dtls";
import { parseHostPort } from "../../../transports/udp";
import type { DtlsCerts } from "../../support/dtls-certs";
import { FrameQueue } from "./frames";

export const udpSocket = (): Promise<Socket> =>
  new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => resolve(s));
  });

export interface TestLink {
  link: DtlsLink;
  inbound: FrameQueue;
  target: { host: string; port: number };
}

/** A DtlsLink with the test certificates on an ephemeral port; `cleanup` gets its close. */
export async function openTestLink(certs: DtlsCerts, cleanup: Array<() => Promise<void> | void>): Promise<TestLink> {
  const inbound = new FrameQueue();
  const link = new DtlsLink({
    host: "127.0.0.1",
    port: 0,
    certPem: certs.read(certs.serverCertFile),
    keyPem: certs.read(certs.serverKeyFile),
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  await link.open(inbound.push);
  cleanup.push(() => link.close());
  const target = parseHostPort(link.address());
  if (target === undefined) throw new Error("no address");
  return { link, inbound, target };
}

/** An alteration of a datagram on its way: the altered copy, or undefined to pass it as it is. */
export type Alter = (m: Buffer) => Buffer | undefined;

/**
 * A relay from the peer that sends first to `target` and back. `toTarget` and `fromTarget` may alter what passes
 * each way; `altered()` counts the datagrams they altered.
 */
export async function relay(
  target: { host: string; port: number },
  alter: { toTarget?: Alter; fromTarget?: Alter } = {},
): Promise<{ socket: Socket; port: number; altered: () => number }> {
  const socket = await udpSocket();
  let peer: { port: number; address: string } | undefined;
  let altered = 0;
  const pass = (m: Buffer, change: Alter | undefined): Buffer => {
    const out = change?.(m);
    if (out === undefined) return m;
    altered++;
    return out;
  };
  socket.on("message", (m: Buffer, from) => {
    if (from.port === target.port) {
      if (peer !== undefined) socket.send(pass(m, alter.fromTarget), peer.port, peer.address);
      return;
    }
    peer = from;
    socket.send(pass(m, alter.toTarget), target.port, target.host);
  });
  return { socket, port: socket.address().port, altered: () => altered };
}
