import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { decide, LossyLink, Xorshift32, type Impairment } from "../support/lossy-link";

const clean: Impairment = { loss: 0, duplicate: 0, reorder: 0 };
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of closers.splice(0).reverse()) await f();
});

async function bound(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
  closers.push(() => new Promise((resolve) => s.close(() => resolve())));
  return s;
}

async function until(what: string, check: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An echo server behind the link and a device in front of it, both real UDP sockets on 127.0.0.1. */
async function rig(
  up: Impairment,
  down: Impairment,
  holdMs = 50,
): Promise<{ send(text: string): void; got: string[]; echoed: string[]; link: LossyLink }> {
  const server = await bound();
  const echoed: string[] = [];
  server.on("message", (m, from) => {
    echoed.push(m.toString());
    server.send(m, from.port, from.address);
  });
  const link = await LossyLink.open({
    target: { host: "127.0.0.1", port: server.address().port },
    seed: 7,
    up,
    down,
    holdMs,
  });
  closers.push(() => link.close());
  const device = await bound();
  const got: string[] = [];
  device.on("message", (m) => got.push(m.toString()));
  return { send: (text) => device.send(text, link.port, "127.0.0.1"), got, echoed, link };
}

describe("lossy link", () => {
  it("draws the same fates from the same seed, and other fates from another seed", () => {
    const fates = (random: Xorshift32): string =>
      Array.from({ length: 200 }, () => {
        const f = decide(random, { loss: 0.3, duplicate: 0.1, reorder: 0.1 });
        return `${f.drop ? "x" : "."}${f.copies}${f.holdBack ? "h" : "-"}`;
      }).join("");
    const first = fates(new Xorshift32(1));
    expect(fates(new Xorshift32(1))).toBe(first);
    expect(fates(new Xorshift32(2))).not.toBe(first);
  });

  it("drops about the configured share over many datagrams", () => {
    const random = new Xorshift32(42);
    let dropped = 0;
    for (let i = 0; i < 10_000; i++) if (decide(random, { loss: 0.3, duplicate: 0, reorder: 0 }).drop) dropped++;
    expect(dropped).toBeGreaterThan(2800);
    expect(dropped).toBeLessThan(3200);
  });

  it("passes datagrams both ways unchanged and in order when it impairs nothing", async () => {
    const r = await rig(clean, clean);
    const sent = Array.from({ length: 20 }, (_, i) => `d${i}`);
    for (const s of sent) r.send(s);
    await until("20 echoes", () => r.got.length === 20);
    expect(r.echoed).toEqual(sent);
    expect(r.got).toEqual(sent);
    expect(r.link.counts().up).toEqual({ received: 20, dropped: 0, duplicated: 0, reordered: 0, sent: 20 });
  });

  it("duplicates every datagram toward the gateway with duplicate 1", async () => {
    const r = await rig({ loss: 0, duplicate: 1, reorder: 0 }, clean);
    for (const s of ["a", "b", "c"]) r.send(s);
    await until("6 echoes", () => r.got.length === 6);
    expect(r.echoed).toEqual(["a", "a", "b", "b", "c", "c"]);
  });

  it("swaps each pair toward the device with reorder 1: the held datagram goes after the next one", async () => {
    // Held until the next datagram comes, however long that takes on a loaded machine.
    const r = await rig(clean, { loss: 0, duplicate: 0, reorder: 1 }, 60_000);
    // One at a time toward the gateway, so the echoes reach the link in this order.
    for (const s of ["1", "2", "3", "4"]) {
      r.send(s);
      await until(`echo of ${s} at the server`, () => r.echoed.includes(s));
    }
    await until("4 datagrams at the device", () => r.got.length === 4);
    expect(r.got).toEqual(["2", "1", "4", "3"]);
    expect(r.link.counts().down.reordered).toBe(2);
  });

  it("sends a held datagram after holdMs when nothing follows it", async () => {
    const r = await rig(clean, { loss: 0, duplicate: 0, reorder: 1 });
    r.send("alone");
    await until("the held echo", () => r.got.length === 1);
    expect(r.got).toEqual(["alone"]);
  });

  it("drops every datagram with loss 1", async () => {
    const r = await rig({ loss: 1, duplicate: 0, reorder: 0 }, clean);
    for (const s of ["a", "b", "c"]) r.send(s);
    await until("3 datagrams counted", () => r.link.counts().up.received === 3);
    expect(r.link.counts().up).toEqual({ received: 3, dropped: 3, duplicated: 0, reordered: 0, sent: 0 });
    expect(r.echoed).toEqual([]);
  });
});
