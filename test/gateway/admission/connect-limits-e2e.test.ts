import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../../gateway/index";
import { startGateway } from "../../support/test-gateway";
import { MsgType, ReturnCode, type Bytes } from "../../../protocol";
import { Peer } from "./peer";

// The gateway's clock is held still and moved by the test, so the token buckets see exactly the time
// the test says, however slowly the datagrams travel on a loaded machine.
let clock = 1_000_000;
let gateway: RunningGateway | undefined;
const peers: Peer[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await gateway?.close();
  gateway = undefined;
});

async function start(limits: Record<string, number>): Promise<{ gw: RunningGateway; address: string }> {
  const gw = await startGateway(
    {
      udp: ["127.0.0.1:0"],
      broker: "embedded",
      embeddedPort: 0,
      limits,
      timers: { advertiseIntervalS: 0 },
      sleep: { store: { path: "" } },
    },
    { now: () => clock },
  );
  gateway = gw;
  return { gw, address: gw.udpAddresses[0] as string };
}

async function peer(host: string, address: string): Promise<Peer> {
  const p = await Peer.open(host, address);
  peers.push(p);
  return p;
}

async function connack(p: Peer, clientId: string): Promise<number> {
  p.connect(clientId);
  return (await p.next(MsgType.ConnAck)).returnCode;
}

describe("per-source CONNECT limits over UDP, embedded broker", () => {
  it("a burst from one host past maxConnectsPerSecondPerSource gets CONNACK 0x01, counted; another host is served; time refills the bucket", async () => {
    const { gw, address } = await start({ maxConnectsPerSecondPerSource: 4, maxHandshakesPerSource: 100 });
    // Seven sockets, seven ports, one host: one source.
    const burst = await Promise.all(Array.from({ length: 7 }, () => peer("127.0.0.1", address)));
    burst.forEach((p, i) => p.connect(`burst-${i}`));
    const codes = await Promise.all(burst.map(async (p) => (await p.next(MsgType.ConnAck)).returnCode));
    expect(codes.filter((c) => c === ReturnCode.Accepted)).toHaveLength(4);
    expect(codes.filter((c) => c === ReturnCode.Congestion)).toHaveLength(3);
    expect(gw.counters.connectRateRefusals).toBe(3);
    expect(gw.counters.congestionRefusals).toBe(3);
    expect(gw.sessionCount()).toBe(4);

    const elsewhere = await peer("127.0.0.2", address);
    expect(await connack(elsewhere, "elsewhere")).toBe(ReturnCode.Accepted);

    const refused = burst[codes.indexOf(ReturnCode.Congestion)] as Peer;
    expect(await connack(refused, "burst-again")).toBe(ReturnCode.Congestion);
    clock += 250; // one token back at 4 a second
    expect(await connack(refused, "burst-again")).toBe(ReturnCode.Accepted);
    expect(gw.counters.connectRateRefusals).toBe(4);
  });

  it("a host with maxHandshakesPerSource will handshakes under way gets CONNACK 0x01 until one finishes; another host is served", async () => {
    const { gw, address } = await start({ maxHandshakesPerSource: 2, maxConnectsPerSecondPerSource: 1000 });
    const stalled = [await peer("127.0.0.1", address), await peer("127.0.0.1", address)];
    for (const [i, p] of stalled.entries()) {
      p.connect(`stalled-${i}`, true);
      await p.next(MsgType.WillTopicReq);
    }
    const third = await peer("127.0.0.1", address);
    expect(await connack(third, "third")).toBe(ReturnCode.Congestion);
    expect(gw.counters.handshakeRefusals).toBe(1);

    // A CONNECT resent during its own handshake (§6.13) starts nothing new: its session answers it.
    (stalled[1] as Peer).connect("stalled-1", true);
    await (stalled[1] as Peer).next(MsgType.WillTopicReq);

    const elsewhere = await peer("127.0.0.2", address);
    expect(await connack(elsewhere, "elsewhere")).toBe(ReturnCode.Accepted);

    // stalled-0 finishes its will handshake and is connected: its place is free again.
    const first = stalled[0] as Peer;
    first.send({ type: MsgType.WillTopic, qos: 0, retain: false, willTopic: "wills/stalled-0" });
    await first.next(MsgType.WillMsgReq);
    const will = Buffer.from("gone");
    first.send({
      type: MsgType.WillMsg,
      willMsg: will as unknown as Bytes,
      willMsgOffset: 0,
      willMsgLength: will.length,
    });
    expect((await first.next(MsgType.ConnAck)).returnCode).toBe(ReturnCode.Accepted);
    expect(await connack(third, "third")).toBe(ReturnCode.Accepted);
    expect(gw.counters.handshakeRefusals).toBe(1);
  });
});
