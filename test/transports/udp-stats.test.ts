import { createSocket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { UdpLink } from "../../transports/udp";

describe("UdpLink statistics", () => {
  const links: UdpLink[] = [];
  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
  });

  it("counts datagrams received, sent, refused and oversize, and reports whether the socket is bound", async () => {
    const link = new UdpLink({ host: "127.0.0.1", port: 0, mtu: 32 });
    links.push(link);
    expect(link.stats()).toEqual({ framesReceived: 0, framesSent: 0, refused: 0, droppedOversize: 0, up: false });
    const got: Uint8Array[] = [];
    await link.open((frame) => got.push(frame));
    expect(link.stats().up).toBe(true);

    const peer = createSocket("udp4");
    await new Promise<void>((resolve) => peer.bind(0, "127.0.0.1", () => resolve()));
    const echoed = new Promise<Buffer>((resolve) => peer.once("message", (m) => resolve(m)));
    const port = Number(link.address().split(":")[1]);
    peer.send(Buffer.from([0x02, 0x17]), port, "127.0.0.1");
    peer.send(Buffer.alloc(40, 1), port, "127.0.0.1");
    peer.send(Buffer.from([0x02, 0x16]), port, "127.0.0.1");
    while (got.length < 2) await new Promise((r) => setTimeout(r, 10));

    expect(link.send(`127.0.0.1:${peer.address().port}`, new Uint8Array([0x02, 0x17]))).toBe(true);
    expect(link.send("nowhere", new Uint8Array([0x02, 0x17]))).toBe(false);
    expect(link.send(`127.0.0.1:${peer.address().port}`, new Uint8Array(33))).toBe(false);
    expect([...(await echoed)]).toEqual([0x02, 0x17]);
    expect(link.stats()).toEqual({ framesReceived: 2, framesSent: 1, refused: 2, droppedOversize: 2, up: true });

    await link.close();
    expect(link.stats().up).toBe(false);
    expect(link.send(`127.0.0.1:${peer.address().port}`, new Uint8Array([0x02, 0x17]))).toBe(false);
    expect(link.stats().refused).toBe(3);
    await new Promise<void>((resolve) => peer.close(() => resolve()));
  });
});

describe("UdpLink send addresses", () => {
  it("sends to host:port and [v6]:port, and refuses anything else without sending", async () => {
    const links = [new UdpLink({ host: "127.0.0.1", port: 0 }), new UdpLink({ host: "::1", port: 0 })] as const;
    const peers = [createSocket("udp4"), createSocket("udp6")] as const;
    for (const link of links) await link.open(() => undefined);
    await new Promise<void>((resolve) => peers[0].bind(0, "127.0.0.1", () => resolve()));
    await new Promise<void>((resolve) => peers[1].bind(0, "::1", () => resolve()));
    const arrivals = peers.map((s) => new Promise<Buffer>((resolve) => s.once("message", (m) => resolve(m))));
    expect(links[0].send(`127.0.0.1:${peers[0].address().port}`, new Uint8Array([0x02, 0x17]))).toBe(true);
    expect(links[1].send(`[::1]:${peers[1].address().port}`, new Uint8Array([0x02, 0x16]))).toBe(true);
    expect([...(await arrivals[0]!)]).toEqual([0x02, 0x17]);
    expect([...(await arrivals[1]!)]).toEqual([0x02, 0x16]);
    for (const bad of ["127.0.0.1:", ":5000", "127.0.0.1:65536", "127.0.0.1:5x00", "127.0.0.1:123456", "127.0.0.1"])
      expect(links[0].send(bad, new Uint8Array([0x02, 0x17])), bad).toBe(false);
    expect(links[0].stats()).toMatchObject({ framesSent: 1, refused: 6 });
    for (const link of links) await link.close();
    for (const peer of peers) await new Promise<void>((resolve) => peer.close(() => resolve()));
  });
});
