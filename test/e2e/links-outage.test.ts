import { afterEach, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import type { SerialLink } from "../../transports/serial/serial-link";
import { systemHas } from "../support/system";
import { openSerialPeer, type SerialPeer } from "../transports/serial-peer";
import { until } from "../transports/support/capture-log";
import { ptyPair, type PtyPair } from "../transports/support/pty";
import { startHarness, type Harness } from "./helpers";
import { decodeFrame, FrameClient } from "./stream-client";

const canRun = systemHas(["socat"], "apt-get install socat");

describe.runIf(canRun)("a serial port that vanishes for a moment", () => {
  let pty: PtyPair | undefined;
  let peer: SerialPeer | undefined;
  let harness: Harness | undefined;
  let pumping = false;
  afterEach(async () => {
    pumping = false;
    await harness?.close();
    await peer?.close();
    await pty?.dispose();
    pty = peer = harness = undefined;
  });

  it("keeps the session behind it: after the port returns the client publishes with its old topic id, no new CONNECT", async () => {
    pty = await ptyPair();
    harness = await startHarness("embedded", { serial: [{ path: pty.a, baudRate: 115200, framing: "slip" }] });
    const link = harness.gateway.links.find((l) => l.name === `serial:${pty!.a}`) as SerialLink;
    const client = new FrameClient("outage", (f) => void peer?.send(f));
    const attach = async () => {
      peer = await openSerialPeer(pty!.b, "slip");
      const current = peer;
      pumping = true;
      void (async () => {
        while (pumping && peer === current) {
          const got = await current.received.next(100).catch(() => undefined);
          if (got) client.deliver(decodeFrame(got.frame));
        }
      })();
    };
    await attach();
    expect(await client.connect("outage-1")).toBe(0);
    const topicId = await client.register("links/outage");
    await client.publishQos1(topicId, "before");
    await harness.watcher.waitFor((m) => m.topic === "links/outage" && m.payload === "before");

    await peer!.close();
    peer = undefined;
    await pty.stop();
    await until(() => link.stats().lost === 1, 3000, "the gateway to notice the port is gone");
    await new Promise((r) => setTimeout(r, 500));
    await pty.start();
    await until(() => link.stats().up, 8000, "the gateway to reopen the port");
    await attach();

    await client.publishQos1(topicId, "after");
    const m = await harness.watcher.waitFor((r) => r.topic === "links/outage" && r.payload === "after");
    expect(m.payload).toBe("after");
    expect(harness.gateway.sessionCount()).toBe(1);
    client.send({ type: MsgType.Disconnect, duration: undefined });
    await client.expect(MsgType.Disconnect);
  });
});
