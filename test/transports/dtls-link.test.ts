import { afterAll } from "vitest";
import { openDtlsSession, type DtlsSession } from "../../device-client/node/dtls-session";
import { DtlsLink } from "../../transports/dtls";
import { parseHostPort } from "../../transports/udp";
import { makeDtlsCerts } from "../support/dtls-certs";
import { systemHas } from "../support/system";
import { linkConformance, type ConformancePeer } from "./link-conformance";
import { FrameQueue } from "./support/frames";

const certs = systemHas(["openssl"], "apt-get install openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

/** A device with its own DTLS session to the link, its certificate issued by the test CA. */
async function dtlsPeer(link: DtlsLink): Promise<{ peer: ConformancePeer; session: DtlsSession }> {
  if (certs === undefined) throw new Error("no certificates");
  const target = parseHostPort(link.address());
  if (target === undefined) throw new Error(`bad address ${link.address()}`);
  const session = await openDtlsSession({
    host: target.host,
    port: target.port,
    caPem: certs.read(certs.caFile),
    certPem: certs.read(certs.clientCertFile),
    keyPem: certs.read(certs.clientKeyFile),
  });
  const received = new FrameQueue();
  session.onMessage((data) => received.push(data));
  return {
    peer: { address: `127.0.0.1:${session.localPort}`, received, send: (frame) => session.send(frame) },
    session,
  };
}

if (certs !== undefined) {
  linkConformance("dtls (127.0.0.1, client certificates required)", async () => {
    const link = new DtlsLink({
      host: "127.0.0.1",
      port: 0,
      certPem: certs.read(certs.serverCertFile),
      keyPem: certs.read(certs.serverKeyFile),
      caPem: certs.read(certs.caFile),
    });
    const sessions: DtlsSession[] = [];
    const peers: ConformancePeer[] = [];
    return {
      link,
      peers,
      ready: async () => {
        for (let i = 0; i < 2; i++) {
          const p = await dtlsPeer(link);
          sessions.push(p.session);
          peers.push(p.peer);
        }
        // The link counts a peer as established once it has checked its certificate, right after the handshake.
        while (link.stats().established < 2) await new Promise((r) => setTimeout(r, 10));
      },
      dispose: async () => {
        for (const s of sessions) s.close();
      },
    };
  });
}
