import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Link } from "../../transports/link";
import { FrameQueue, publishOfLength, toHex } from "./support/frames";

/** A device on the far side of the link under test. */
export interface ConformancePeer {
  /** The address the link reports for this peer and accepts in send(). */
  readonly address: string;
  /** Puts one frame on the wire toward the link. */
  send(frame: Uint8Array): Promise<void>;
  /** Frames the peer received from the link, in order. */
  readonly received: FrameQueue;
}

export interface ConformanceSetup {
  /** The link under test, not yet opened. */
  link: Link;
  /** At least one peer; broadcast must reach every one. */
  peers: ConformancePeer[];
  /** Runs after link.open() resolved and before any traffic (e.g. waits for BLE peripherals to be connected). */
  ready?: () => Promise<void>;
  /** Releases the peers and anything else the setup made; the suite closes the link itself. */
  dispose: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Frames per direction in the ordering test. Default 100. */
  manyFrames?: number;
  /** Largest frame the exact-MTU test sends; links whose mtu is larger test this size instead. Default 4096. */
  largestProbe?: number;
}

/**
 * The behaviour every Link promises (transports/link.ts), run against a fresh link and fresh peers per test.
 * Each link's test file calls this with a factory.
 */
export function linkConformance(
  label: string,
  create: () => Promise<ConformanceSetup>,
  options: ConformanceOptions = {},
): void {
  const manyFrames = options.manyFrames ?? 100;
  const largestProbe = options.largestProbe ?? 4096;

  describe(`Link conformance: ${label}`, () => {
    let setup: ConformanceSetup;
    let inbound: FrameQueue;
    let closed = false;

    const peer = (i = 0): ConformancePeer => {
      const p = setup.peers[i];
      if (!p) throw new Error(`setup has no peer ${i}`);
      return p;
    };

    beforeEach(async () => {
      setup = await create();
      inbound = new FrameQueue();
      closed = false;
      await setup.link.open(inbound.push);
      await setup.ready?.();
    });

    afterEach(async () => {
      if (!closed) await setup.link.close();
      await setup.dispose();
    });

    it("has a name and an mtu", () => {
      expect(setup.link.name.length).toBeGreaterThan(0);
      expect(setup.link.mtu).toBeGreaterThanOrEqual(2);
      expect(setup.peers.length).toBeGreaterThan(0);
    });

    it("delivers a frame from a peer with that peer's address", async () => {
      const frame = publishOfLength(12, 1);
      await peer().send(frame);
      const got = await inbound.next();
      expect(toHex(got.frame)).toBe(toHex(frame));
      expect(got.address).toBe(peer().address);
    });

    it("sends a frame to a peer by its address", async () => {
      const frame = publishOfLength(20, 2);
      expect(setup.link.send(peer().address, frame)).toBe(true);
      expect(toHex((await peer().received.next()).frame)).toBe(toHex(frame));
    });

    it(`keeps ${manyFrames} frames in order each way`, async () => {
      const frames = Array.from({ length: manyFrames }, (_, i) => publishOfLength(8 + (i % 40), i));
      for (const frame of frames) await peer().send(frame);
      for (const frame of frames) expect(toHex((await inbound.next()).frame)).toBe(toHex(frame));
      for (const frame of frames) expect(setup.link.send(peer().address, frame)).toBe(true);
      for (const frame of frames) expect(toHex((await peer().received.next()).frame)).toBe(toHex(frame));
    });

    it("sends a frame of exactly mtu octets (or the largest probe) whole", async () => {
      const size = Math.min(setup.link.mtu, largestProbe);
      const frame = publishOfLength(size, 3);
      expect(setup.link.send(peer().address, frame)).toBe(true);
      const got = await peer().received.next(5000);
      expect(got.frame.length).toBe(size);
      expect(toHex(got.frame)).toBe(toHex(frame));
    });

    it("refuses a frame larger than mtu and sends no part of it", async () => {
      const tooBig = publishOfLength(setup.link.mtu + 1, 4);
      expect(setup.link.send(peer().address, tooBig)).toBe(false);
      const after = publishOfLength(10, 5);
      expect(setup.link.send(peer().address, after)).toBe(true);
      expect(toHex((await peer().received.next()).frame)).toBe(toHex(after));
      expect(await peer().received.settle(100)).toBe(0);
    });

    it("broadcasts a frame to every peer", async () => {
      const frame = publishOfLength(9, 6);
      setup.link.broadcast(frame);
      for (const p of setup.peers) expect(toHex((await p.received.next()).frame)).toBe(toHex(frame));
    });

    it("stops delivering once closed, and refuses to send", async () => {
      await setup.link.close();
      closed = true;
      await peer()
        .send(publishOfLength(12, 7))
        .catch(() => undefined);
      expect(await inbound.settle(300)).toBe(0);
      expect(setup.link.send(peer().address, publishOfLength(12, 8))).toBe(false);
    });
  });
}
