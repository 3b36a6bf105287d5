import { afterEach, describe, expect, it } from "vitest";
import type { Framing } from "../../transports/serial/framing";
import { SerialLink } from "../../transports/serial/serial-link";
import { encodeSlip } from "../../transports/serial/slip";
import { systemHas } from "../support/system";
import { openSerialPeer, type SerialPeer } from "./serial-peer";
import { captureLog, until } from "./support/capture-log";
import { FrameQueue, publishOfLength, toHex } from "./support/frames";
import { ptyPair, type PtyPair } from "./support/pty";

const canRun = systemHas(["socat"], "apt-get install socat (it makes the pseudo-terminal pairs)");
const hex = (s: string) => Uint8Array.from(s.split(" ").map((h) => parseInt(h, 16)));

describe.runIf(canRun)("serial line faults over a real pseudo-terminal", () => {
  let pty: PtyPair | undefined;
  let link: SerialLink | undefined;
  let peer: SerialPeer | undefined;

  afterEach(async () => {
    await link?.close();
    await peer?.close();
    await pty?.dispose();
    link = peer = pty = undefined;
  });

  async function start(framing: Framing, extra: Partial<ConstructorParameters<typeof SerialLink>[0]> = {}) {
    pty = await ptyPair();
    const log = captureLog();
    link = new SerialLink({ path: pty.a, baudRate: 115200, framing, log, rawIdleTimeoutMs: 100, ...extra });
    const inbound = new FrameQueue();
    await link.open(inbound.push);
    peer = await openSerialPeer(pty.b, framing);
    return { link, peer, inbound, log, pty };
  }

  it("raw: skips garbage between frames, and clears a plausible-looking stray Length after the line goes idle", async () => {
    const { link, peer, inbound } = await start("raw", { mtu: 64 });
    const one = publishOfLength(11, 1);
    const two = publishOfLength(14, 2);
    const three = publishOfLength(9, 3);
    await peer.writeRaw(hex("00 00 00"));
    await peer.send(one);
    await peer.writeRaw(hex("ff fe 80 00"));
    await peer.send(two);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(one));
    expect(toHex((await inbound.next()).frame)).toBe(toHex(two));
    await peer.writeRaw(hex("30 0c 00"));
    await new Promise((r) => setTimeout(r, 300));
    await peer.send(three);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(three));
    expect(await inbound.settle(100)).toBe(0);
    expect(link.stats()).toMatchObject({ frames: 3, garbageOctets: 8, oversize: 2 });
  });

  it("slip: line noise between frames is dropped up to each END and counted, the frames arrive", async () => {
    const { link, peer, inbound } = await start("slip");
    const one = publishOfLength(11, 1);
    const two = publishOfLength(200, 2);
    await peer.writeRaw(hex("11 22 33"));
    await peer.send(one);
    await peer.writeRaw(hex("db 00 c0 44"));
    await peer.send(two);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(one));
    expect(toHex((await inbound.next()).frame)).toBe(toHex(two));
    expect(await inbound.settle(100)).toBe(0);
    const stats = link.stats();
    expect(stats.frames).toBe(2);
    expect(stats.malformed + stats.badCrc).toBe(3);
  });

  for (const framing of ["raw", "slip"] as const) {
    it(`${framing}: reassembles frames written one octet at a time`, async () => {
      const { peer, inbound } = await start(framing, { rawIdleTimeoutMs: 1000 });
      const frames = [publishOfLength(7, 1), publishOfLength(40, 2), publishOfLength(300, 3)];
      const wire = frames.map((f) => (framing === "slip" ? encodeSlip(f) : f));
      for (const octets of wire) {
        for (const octet of octets) {
          await peer.writeRaw(Uint8Array.of(octet));
          if (octet % 16 === 0) await new Promise((r) => setTimeout(r, 2));
        }
      }
      for (const frame of frames) expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
    });
  }

  it("slip: drops and counts frames with a bad CRC, delivers the good ones around them", async () => {
    const { link, peer, inbound } = await start("slip");
    const good = [publishOfLength(10, 1), publishOfLength(12, 2), publishOfLength(14, 3)];
    for (let i = 0; i < 5; i++) {
      const bad = encodeSlip(publishOfLength(10 + i, 10 + i));
      const crcLow = bad.length - 2;
      bad[crcLow] = (bad[crcLow] as number) === 0x00 ? 0x01 : 0x00;
      await peer.writeRaw(bad);
      const next = good[i];
      if (next) await peer.send(next);
    }
    for (const frame of good) expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
    expect(await inbound.settle(100)).toBe(0);
    expect(link.stats().badCrc).toBe(5);
  });

  it("slip: an incoming frame larger than mtu is dropped and counted, the next one arrives", async () => {
    const { link, peer, inbound } = await start("slip", { mtu: 64 });
    await peer.send(publishOfLength(65, 1));
    const fits = publishOfLength(64, 2);
    await peer.send(fits);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(fits));
    expect(link.stats().oversize).toBe(1);
  });

  for (const framing of ["raw", "slip"] as const) {
    it(`${framing}: a port that vanishes is reopened by itself when it comes back, same name and address`, async () => {
      const { link, inbound, log, pty } = await start(framing, { reopen: { initialMs: 20, maxMs: 200 } });
      const name = link.name;
      await peer!.send(publishOfLength(10, 1));
      expect((await inbound.next()).address).toBe(pty.a);

      await peer!.close();
      peer = undefined;
      await pty.stop();
      // Noticing is event-driven (the read fails once socat is gone); the deadline only bounds a loaded machine.
      await until(() => link.stats().lost === 1, 10_000, "the link to notice the port is gone");
      expect(link.stats().up).toBe(false);
      expect(link.send(pty.a, publishOfLength(10, 2))).toBe(false);
      await new Promise((r) => setTimeout(r, 500));

      await pty.start();
      await until(() => link.stats().up, 10_000, "the link to reopen the port");
      expect(link.stats().reopened).toBe(1);
      expect(link.name).toBe(name);
      peer = await openSerialPeer(pty.b, framing);
      const upstream = publishOfLength(16, 3);
      await peer.send(upstream);
      const got = await inbound.next();
      expect(toHex(got.frame)).toBe(toHex(upstream));
      expect(got.address).toBe(pty.a);
      const downstream = publishOfLength(18, 4);
      expect(link.send(pty.a, downstream)).toBe(true);
      expect(toHex((await peer.received.next()).frame)).toBe(toHex(downstream));
      expect(log.events()).toEqual(expect.arrayContaining(["serial-lost", "serial-reopened"]));
    });
  }

  it("refuses, with a logged reason, a frame above mtu and a frame for another address", async () => {
    const { link, log, pty, peer } = await start("slip", { mtu: 32 });
    expect(link.send(pty.a, publishOfLength(33, 1))).toBe(false);
    expect(link.send("/dev/elsewhere", publishOfLength(10, 2))).toBe(false);
    const refusals = log.records.filter((r) => r.event === "serial-send-refused").map((r) => r.fields.reason);
    expect(refusals).toEqual(["frame larger than mtu", "unknown address"]);
    expect(link.stats().refused).toBe(2);
    expect(await peer.received.settle(100)).toBe(0);
  });

  it("keeps retrying a port that is absent at open, and opens it once it appears", async () => {
    pty = await ptyPair();
    await pty.stop();
    const log = captureLog();
    link = new SerialLink({ path: pty.a, baudRate: 9600, framing: "slip", log, reopen: { initialMs: 20, maxMs: 100 } });
    const inbound = new FrameQueue();
    await link.open(inbound.push);
    expect(link.stats().up).toBe(false);
    expect(log.events()).toContain("serial-open-failed");
    await new Promise((r) => setTimeout(r, 300));
    await pty.start();
    await until(() => link!.stats().up, 5000, "the link to open the port");
    peer = await openSerialPeer(pty.b, "slip");
    const frame = publishOfLength(10, 1);
    await peer.send(frame);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
  });
});
