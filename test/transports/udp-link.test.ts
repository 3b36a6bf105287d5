import { createSocket, type Socket } from "node:dgram";
import { UdpLink } from "../../transports/udp";
import { linkConformance, type ConformancePeer } from "./link-conformance";
import { FrameQueue } from "./support/frames";

const bind = (socket: Socket, port: number, host: string) =>
  new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, host, () => resolve());
  });

/**
 * A UDP peer on 127.0.0.1: one socket it sends from and receives unicast on, and one listener on the
 * shared broadcast port (SO_REUSEADDR, so that every peer's listener gets each broadcast datagram).
 */
async function udpPeer(
  link: UdpLink,
  broadcastPort: number,
): Promise<{ peer: ConformancePeer; broadcastPort: number; close: () => void }> {
  const received = new FrameQueue();
  const unicast = createSocket("udp4");
  await bind(unicast, 0, "127.0.0.1");
  const listener = createSocket({ type: "udp4", reuseAddr: true });
  await bind(listener, broadcastPort, "0.0.0.0");
  for (const s of [unicast, listener]) s.on("message", (m: Buffer) => received.push(m));
  const target = () => {
    const [host, port] = link.address().split(":");
    return { host: host as string, port: Number(port) };
  };
  const peer: ConformancePeer = {
    address: `127.0.0.1:${unicast.address().port}`,
    received,
    send: (frame) =>
      new Promise<void>((resolve, reject) => {
        const t = target();
        unicast.send(frame, t.port, t.host, (err) => (err ? reject(err) : resolve()));
      }),
  };
  return {
    peer,
    broadcastPort: listener.address().port,
    close: () => {
      unicast.close();
      listener.close();
    },
  };
}

linkConformance("udp (127.0.0.1, broadcast to 127.255.255.255)", async () => {
  const probe = createSocket({ type: "udp4", reuseAddr: true });
  await bind(probe, 0, "0.0.0.0");
  const broadcastPort = probe.address().port;
  const link = new UdpLink({ host: "127.0.0.1", port: 0, broadcastTarget: `127.255.255.255:${broadcastPort}` });
  const one = await udpPeer(link, broadcastPort);
  const two = await udpPeer(link, broadcastPort);
  probe.close();
  return {
    link,
    peers: [one.peer, two.peer],
    dispose: async () => {
      one.close();
      two.close();
    },
  };
});
