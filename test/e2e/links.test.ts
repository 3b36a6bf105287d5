import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import type { Framing } from "../../transports/serial/framing";
import { SnClient, payloadText } from "../support/sn-client";
import { systemHas } from "../support/system";
import { openSerialPeer, type SerialPeer } from "../transports/serial-peer";
import { ptyPair, type PtyPair } from "../transports/support/pty";
import { brokers, startHarness, type Harness } from "./helpers";
import { decodeFrame, FrameClient, Forwarder } from "./stream-client";

const canRun = systemHas(["socat", "mosquitto"], "apt-get install socat mosquitto");

/** Reads frames off a serial peer's queue for as long as the test runs and hands them on. */
function pump(peer: SerialPeer, onFrame: (frame: Uint8Array) => void): () => void {
  let running = true;
  void (async () => {
    while (running) {
      try {
        onFrame((await peer.received.next(200)).frame);
      } catch (error) {
        if (!(error as Error).message.startsWith("no frame")) throw error;
      }
    }
  })();
  return () => {
    running = false;
  };
}

describe.runIf(canRun)("one gateway serving UDP, serial (slip and raw) and forwarders (raw and slip) at once", () => {
  for (const b of brokers) {
    describe(b.name, () => {
      let stopBroker: () => Promise<void>;
      let harness: Harness;
      const ptys: PtyPair[] = [];
      const peers: SerialPeer[] = [];
      const stops: Array<() => void> = [];
      let udp: SnClient;
      let slip: FrameClient;
      let raw: FrameClient;
      let forwarder: Forwarder;
      let slipForwarder: Forwarder;
      let nodes: FrameClient[];

      async function line(framing: Framing): Promise<{ path: string; peer: SerialPeer }> {
        const pty = await ptyPair();
        ptys.push(pty);
        return { path: pty.a, peer: await openSerialPeer(pty.b, framing) };
      }

      beforeAll(async () => {
        const broker = await b.start();
        stopBroker = broker.stop;
        const slipLine = await line("slip");
        const rawLine = await line("raw");
        const forwarderLine = await line("raw");
        const slipForwarderLine = await line("slip");
        peers.push(slipLine.peer, rawLine.peer, forwarderLine.peer, slipForwarderLine.peer);
        harness = await startHarness(broker.broker, {
          serial: [
            { path: slipLine.path, baudRate: 115200, framing: "slip" },
            { path: rawLine.path, baudRate: 57600, framing: "raw" },
            { path: forwarderLine.path, baudRate: 9600, framing: "raw" },
            { path: slipForwarderLine.path, baudRate: 9600, framing: "slip" },
          ],
        });
        udp = await SnClient.open(harness.address);
        slip = new FrameClient("serial slip", (f) => void slipLine.peer.send(f));
        raw = new FrameClient("serial raw", (f) => void rawLine.peer.send(f));
        forwarder = new Forwarder((f) => void forwarderLine.peer.send(f));
        slipForwarder = new Forwarder((f) => void slipForwarderLine.peer.send(f));
        nodes = [
          forwarder.node([0x01], "node 01"),
          forwarder.node([0x00, 0x02], "node 0002"),
          forwarder.node([0xc0, 0xdb], "node c0db"),
          slipForwarder.node([0x01], "slip node 01"),
        ];
        stops.push(pump(slipLine.peer, (f) => slip.deliver(decodeFrame(f))));
        stops.push(pump(rawLine.peer, (f) => raw.deliver(decodeFrame(f))));
        stops.push(pump(forwarderLine.peer, (f) => forwarder.receive(f)));
        stops.push(pump(slipForwarderLine.peer, (f) => slipForwarder.receive(f)));
      });

      afterAll(async () => {
        for (const stop of stops.splice(0)) stop();
        await udp?.close();
        await harness?.close();
        for (const p of peers.splice(0)) await p.close();
        for (const p of ptys.splice(0)) await p.dispose();
        await stopBroker?.();
      });

      it("serves every client at once: connect, register, QoS 1 publish up, subscribe and receive down", async () => {
        const serialClients: Array<[FrameClient, string]> = [
          [slip, "e2e-slip"],
          [raw, "e2e-raw"],
          [nodes[0] as FrameClient, "e2e-node-01"],
          [nodes[1] as FrameClient, "e2e-node-0002"],
          [nodes[2] as FrameClient, "e2e-node-c0db"],
          [nodes[3] as FrameClient, "e2e-slip-node-01"],
        ];
        expect(await udp.connect("e2e-udp")).toBe(0);
        expect(await Promise.all(serialClients.map(([c, id]) => c.connect(id)))).toEqual([0, 0, 0, 0, 0, 0]);
        expect(harness.gateway.sessionCount()).toBe(7);
        const names = harness.gateway.links.map((l) => l.name);
        expect(names.filter((n) => n.startsWith("serial:"))).toHaveLength(4);

        const udpTopic = (await udp.register("links/e2e-udp")).topicId;
        udp.publish(udpTopic, "hello from e2e-udp", { qos: 1 });
        expect((await udp.expect(MsgType.PubAck)).returnCode).toBe(0);
        await Promise.all(
          serialClients.map(async ([c, id]) => {
            const topicId = await c.register(`links/${id}`);
            await c.publishQos1(topicId, `hello from ${id}`);
          }),
        );
        for (const id of ["e2e-udp", ...serialClients.map(([, id]) => id)]) {
          const m = await harness.watcher.waitFor((r) => r.topic === `links/${id}`);
          expect(m.payload).toBe(`hello from ${id}`);
        }

        await udp.subscribe("down/e2e-udp", 1);
        await Promise.all(serialClients.map(([c, id]) => c.subscribe(`down/${id}`, 1)));
        const ids = ["e2e-udp", ...serialClients.map(([, id]) => id)];
        for (const id of ids) await harness.watcher.client.publishAsync(`down/${id}`, `to ${id}`, { qos: 1 });

        const udpDown = await udp.expect(MsgType.Publish);
        expect(payloadText(udpDown)).toBe("to e2e-udp");
        for (const [c, id] of serialClients) {
          const m = await c.expect(MsgType.Publish);
          expect(Buffer.from(m.data.slice(m.dataOffset, m.dataOffset + m.dataLength)).toString()).toBe(`to ${id}`);
          c.send({ type: MsgType.PubAck, topicId: m.topicId, msgId: m.msgId, returnCode: 0 });
        }
        udp.send({ type: MsgType.PubAck, topicId: udpDown.topicId, msgId: udpDown.msgId, returnCode: 0 });
        expect(forwarder.stray).toEqual([]);
        expect(slipForwarder.stray).toEqual([]);
      });
    });
  }
});
