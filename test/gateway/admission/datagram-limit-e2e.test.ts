import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../../gateway/index";
import { startGateway } from "../../support/test-gateway";
import { MsgType } from "../../../protocol";
import { Peer } from "./peer";

// The gateway's clock is held still and moved by the test: the datagram buckets see exactly the time the
// test says, however slowly the datagrams travel.
let clock = 5_000_000;
let gateway: RunningGateway | undefined;
const peers: Peer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await gateway?.close();
  gateway = undefined;
});

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 4000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached within 4 s: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("limits.maxDatagramsPerSecondPerSource over UDP", () => {
  it("drops a source's datagrams past the rate unread and unanswered, counted; another source is served; time refills the bucket", async () => {
    const gw = await startGateway(
      {
        udp: ["127.0.0.1:0"],
        broker: "embedded",
        embeddedPort: 0,
        limits: { maxDatagramsPerSecondPerSource: 4 },
        timers: { advertiseIntervalS: 0 },
        sleep: { store: { path: "" } },
      },
      { now: () => clock },
    );
    gateway = gw;
    const address = gw.udpAddresses[0] as string;
    // Two sockets of one host: one source, one bucket.
    const a = await Peer.open("127.0.0.1", address);
    const b = await Peer.open("127.0.0.1", address);
    const other = await Peer.open("127.0.0.2", address);
    peers.push(a, b, other);

    for (let i = 0; i < 5; i++) a.send({ type: MsgType.SearchGw, radius: 0 });
    for (let i = 0; i < 5; i++) b.send({ type: MsgType.SearchGw, radius: 0 });
    await waitUntil(() => gw.counters.datagramRateDropped === 6, "6 datagrams dropped");
    const answered = (p: Peer): number => p.received.filter((m) => m.type === MsgType.GwInfo).length;
    await waitUntil(() => answered(a) + answered(b) === 4, "4 GWINFO answers");

    other.send({ type: MsgType.SearchGw, radius: 0 });
    await other.next(MsgType.GwInfo);

    a.send({ type: MsgType.SearchGw, radius: 0 });
    await waitUntil(() => gw.counters.datagramRateDropped === 7, "the next datagram dropped too");
    clock += 250; // one token back at 4 a second
    a.received.length = 0;
    a.send({ type: MsgType.SearchGw, radius: 0 });
    await a.next(MsgType.GwInfo);
    expect(gw.counters.datagramRateDropped).toBe(7);
  });

  it("limits nothing by default", async () => {
    const gw = await startGateway(
      {
        udp: ["127.0.0.1:0"],
        broker: "embedded",
        embeddedPort: 0,
        timers: { advertiseIntervalS: 0 },
        sleep: { store: { path: "" } },
      },
      { now: () => clock },
    );
    gateway = gw;
    const a = await Peer.open("127.0.0.1", gw.udpAddresses[0] as string);
    peers.push(a);
    for (let i = 0; i < 50; i++) a.send({ type: MsgType.SearchGw, radius: 0 });
    await waitUntil(() => a.received.filter((m) => m.type === MsgType.GwInfo).length === 50, "50 GWINFO answers");
    expect(gw.counters.datagramRateDropped).toBe(0);
  });
});
