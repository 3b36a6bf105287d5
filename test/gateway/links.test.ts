import { afterEach, describe, expect, it } from "vitest";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../../protocol";
import type { RunningGateway } from "../../gateway/index";
import { startGateway } from "../support/test-gateway";
import type { Link } from "../../transports/link";

/**
 * An in-memory link: what a serial or BLE link looks like to the gateway. It stands in for those links
 * only to show that startGateway serves extra Link objects next to UDP; it does not exercise any real
 * serial or radio behaviour (those have their own conformance suite).
 */
class MemoryLink implements Link {
  readonly mtu = 255;
  readonly sent: Array<{ address: string; message: Message }> = [];
  broadcasts = 0;
  private deliver: ((frame: Uint8Array, address: string) => void) | undefined;
  constructor(readonly name: string) {}
  open(onFrame: (frame: Uint8Array, address: string) => void): Promise<void> {
    this.deliver = onFrame;
    return Promise.resolve();
  }
  send(address: string, frame: Uint8Array): boolean {
    const m = decode(frame as unknown as Bytes, 0, frame.length);
    if (m.type === "error") throw new Error(`gateway sent an undecodable frame ${m.code}`);
    this.sent.push({ address, message: m });
    return true;
  }
  broadcast(): void {
    this.broadcasts++;
  }
  close(): Promise<void> {
    this.deliver = undefined;
    return Promise.resolve();
  }
  inject(address: string, message: Message): void {
    const frame = new Uint8Array(encodingLength(message));
    encode(message, frame as unknown as Bytes, 0);
    (this.deliver as (f: Uint8Array, a: string) => void)(frame, address);
  }
  async next(address: string, type: MsgType): Promise<Message> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const i = this.sent.findIndex((s) => s.address === address && s.message.type === type);
      if (i >= 0) return (this.sent.splice(i, 1)[0] as { message: Message }).message;
      if (Date.now() > deadline)
        throw new Error(`nothing of type ${type} to ${address}; sent ${JSON.stringify(this.sent)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe("startGateway with extra links", () => {
  let gateway: RunningGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  it("serves clients on links it did not build, keyed by link and address, and ADVERTISEs on them", async () => {
    const a = new MemoryLink("mem:a");
    const b = new MemoryLink("mem:b");
    gateway = await startGateway(
      { udp: ["127.0.0.1:0"], embeddedPort: 0, timers: { advertiseIntervalS: 60 } },
      { links: [a, b] },
    );
    expect(gateway.links.map((l) => l.name)).toContain("mem:a");
    expect(a.broadcasts).toBe(1);
    // The same address on two links is two clients.
    a.inject("node-1", { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "mem-a-1" });
    b.inject("node-1", { type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId: "mem-b-1" });
    expect(await a.next("node-1", MsgType.ConnAck)).toMatchObject({ returnCode: 0 });
    expect(await b.next("node-1", MsgType.ConnAck)).toMatchObject({ returnCode: 0 });
    expect(gateway.sessionCount()).toBe(2);
    a.inject("node-1", { type: MsgType.PingReq, clientId: undefined });
    await a.next("node-1", MsgType.PingResp);
    expect(b.sent.filter((s) => s.message.type === MsgType.PingResp)).toHaveLength(0);
    a.inject("node-1", { type: MsgType.Disconnect, duration: undefined });
    await a.next("node-1", MsgType.Disconnect);
    expect(gateway.sessionCount()).toBe(1);
  });
});
