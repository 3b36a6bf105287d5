/**
 * Per-link counters in /metrics and the links in /healthz, for a gateway serving a serial port (a real
 * pseudo-terminal made by socat) and a BLE peripheral. BLE runs through FakeNoble, the in-memory stand-in
 * of noble's central API (test/transports/ble/fake-noble.ts): no radio runs here, so radio timing, ATT MTU
 * negotiation and adapter errors are not covered (see test/transports/ble-link.test.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../gateway";
import { startGateway } from "../support/test-gateway";
import { decode, encode, encodingLength, MsgType, type Bytes, type Message } from "../../protocol";
import { BleLink } from "../../transports/ble/ble-link";
import { createFramer } from "../../transports/serial/framing";
import { eventually, get, parseMetrics, sample } from "../support/http";
import { systemHas } from "../support/system";
import { FakeNoble, FakePeripheral } from "../transports/ble/fake-noble";
import { openSerialPeer, type SerialPeer } from "../transports/serial-peer";
import { FrameQueue } from "../transports/support/frames";
import { ptyPair, type PtyPair } from "../transports/support/pty";

function frameOf(message: Message): Uint8Array {
  const frame = new Uint8Array(encodingLength(message));
  encode(message, frame as unknown as Bytes, 0);
  return frame;
}

function connect(clientId: string): Uint8Array {
  return frameOf({ type: MsgType.Connect, will: false, cleanSession: true, duration: 60, clientId });
}

function connAckCode(frame: Uint8Array): number {
  const m = decode(frame as unknown as Bytes, 0, frame.length);
  if (m.type !== MsgType.ConnAck) throw new Error(`expected CONNACK, got ${JSON.stringify(m)}`);
  return m.returnCode;
}

describe.runIf(systemHas(["socat"], "sudo apt-get install -y socat"))("per-link metrics and health", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("counts frames on serial and BLE links, and /healthz names a serial port that is gone", async () => {
    const pty: PtyPair = await ptyPair();
    cleanup.push(() => pty.dispose());
    const noble = new FakeNoble();
    noble.setState("poweredOn");
    const peripheral = new FakePeripheral({
      id: "c0ffee000001",
      address: "c0:ff:ee:00:00:01",
      localName: "Puck.js 1a2b",
    });
    const fromGateway = new FrameQueue();
    const bleFramer = createFramer("slip", 65535, (m) => fromGateway.push(m));
    peripheral.onWrite = (data) => bleFramer.push(data);
    noble.advertise(peripheral);
    const ble = new BleLink({ noble, framing: "slip", peripherals: [{ name: "Puck.js 1a2b" }] });

    const gateway: RunningGateway = await startGateway(
      {
        udp: ["127.0.0.1:0"],
        broker: "embedded",
        embeddedPort: 0,
        http: "127.0.0.1:0",
        advertiseTarget: "",
        timers: { advertiseIntervalS: 0 },
        serial: [{ path: pty.a, framing: "slip" }],
        sleep: { store: { path: "" } },
      },
      { links: [ble] },
    );
    cleanup.push(() => gateway.close());
    const http = gateway.httpAddress as string;
    const serialName = `serial:${pty.a}`;
    const serialLabels = `link="${serialName}",kind="serial"`;
    const bleLabels = 'link="ble",kind="ble"';

    let peer: SerialPeer = await openSerialPeer(pty.b, "slip");
    cleanup.push(() => peer.close());
    await peer.send(connect("serial-1"));
    expect(connAckCode((await peer.received.next()).frame)).toBe(0);
    // A frame whose CRC does not match: one octet of a framed PINGREQ changed.
    const corrupted = createFramer("slip", 65535, () => undefined).encode(
      frameOf({ type: MsgType.PingReq, clientId: undefined }),
    );
    corrupted[2] = (corrupted[2] as number) ^ 0x01;
    await peer.writeRaw(corrupted);

    await eventually(
      "the peripheral connected",
      async () => ble.stats().connected,
      (n) => n === 1,
    );
    peripheral.notify(bleFramer.encode(connect("ble-1")));
    expect(connAckCode((await fromGateway.next()).frame)).toBe(0);

    const metrics = await eventually(
      "the bad CRC counted",
      async () => parseMetrics((await get(http, "/metrics")).body),
      (m) => m.get(`mqttsn_link_frames_dropped_total{${serialLabels},reason="bad_crc"}`) === 1,
    );
    expect(sample(metrics, `mqttsn_link_up{${serialLabels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_link_frames_received_total{${serialLabels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_link_frames_sent_total{${serialLabels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_serial_lost_total{${serialLabels}}`)).toBe(0);
    expect(sample(metrics, `mqttsn_link_up{${bleLabels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_link_frames_received_total{${bleLabels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_link_frames_sent_total{${bleLabels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_ble_peripherals_connected{${bleLabels}}`)).toBe(1);
    expect(sample(metrics, `mqttsn_ble_connects_total{${bleLabels}}`)).toBe(1);
    expect(sample(metrics, 'mqttsn_clients{state="active"}')).toBe(2);

    const healthy = await get(http, "/healthz");
    expect(healthy.status).toBe(200);
    expect(JSON.parse(healthy.body).listeners).toEqual({ [gateway.links[0]!.name]: "up", [serialName]: "up" });

    await peer.close();
    await pty.stop();
    const down = await eventually(
      "503",
      () => get(http, "/healthz"),
      (a) => a.status === 503,
    );
    expect(JSON.parse(down.body)).toMatchObject({
      ok: false,
      listeners: { [serialName]: "down" },
      problems: [`${serialName} is down`],
    });
    // The port reads as closed a moment before its close event counts the loss.
    const after = await eventually(
      "the loss counted",
      async () => parseMetrics((await get(http, "/metrics")).body),
      (m) => m.get(`mqttsn_serial_lost_total{${serialLabels}}`) === 1,
    );
    expect(sample(after, `mqttsn_link_up{${serialLabels}}`)).toBe(0);
    expect(sample(after, `mqttsn_serial_lost_total{${serialLabels}}`)).toBe(1);

    await pty.start();
    await eventually(
      "healthy again",
      () => get(http, "/healthz"),
      (a) => a.status === 200,
    );
    peer = await openSerialPeer(pty.b, "slip");
    const reopened = parseMetrics((await get(http, "/metrics")).body);
    expect(sample(reopened, `mqttsn_serial_reopened_total{${serialLabels}}`)).toBe(1);
  });
});
