/**
 * BleLink through FakeNoble, an in-memory stand-in of the noble central API (see ble/fake-noble.ts).
 *
 * What the stand-in cannot cover without a radio and an adapter: real radio timing, loss and interference;
 * ATT MTU negotiation (the fake uses a fixed MTU, 23 by default); HCI and BlueZ errors and their codes;
 * adapter permissions (CAP_NET_RAW/CAP_NET_ADMIN) and a BlueZ daemon holding the adapter; the controller's
 * limit on simultaneous connections; advertising intervals, scan responses merged into advertisements and
 * random or rotating addresses; pairing and bonding; connection parameter updates; flow control of
 * write-without-response inside the controller. Those are for the hardware guide's manual checks
 * (hardware/espruino.md) with a real Puck.js or nRF52 board.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BleLink, type BleLinkOptions } from "../../transports/ble/ble-link";
import { loadNoble } from "../../transports/ble/noble-api";
import { createFramer, type Framing } from "../../transports/serial/framing";
import { FakeNoble, FakePeripheral } from "./ble/fake-noble";
import { linkConformance, type ConformancePeer } from "./link-conformance";
import { captureLog, until } from "./support/capture-log";
import { FrameQueue, publishOfLength, toHex } from "./support/frames";

interface Device {
  peripheral: FakePeripheral;
  peer: ConformancePeer;
}

/** A fake peripheral plus the device-side framing: what the link writes comes out of received. */
function device(id: string, localName: string | undefined, framing: Framing = "slip", attMtu = 23): Device {
  const address = id.match(/../g)!.join(":");
  const peripheral = new FakePeripheral({ id, address, localName, attMtu });
  const received = new FrameQueue();
  const framer = createFramer(framing, 65535, (m) => received.push(m));
  peripheral.onWrite = (data) => framer.push(data);
  const peer: ConformancePeer = {
    address: id,
    received,
    send: async (frame) => {
      peripheral.notify(framer.encode(frame));
    },
  };
  return { peripheral, peer };
}

function poweredNoble(): FakeNoble {
  const noble = new FakeNoble();
  noble.setState("poweredOn");
  return noble;
}

for (const framing of ["slip", "raw"] as const) {
  linkConformance(`ble (${framing}, in-memory noble stand-in)`, async () => {
    const noble = poweredNoble();
    const one = device("c0ffee000001", "Puck.js 1a2b", framing);
    const two = device("c0ffee000002", "sensor-2", framing, 185);
    noble.advertise(one.peripheral);
    noble.advertise(two.peripheral);
    const link = new BleLink({
      noble,
      framing,
      peripherals: [{ name: "Puck.js 1a2b" }, { address: "C0:FF:EE:00:00:02" }],
    });
    return {
      link,
      peers: [one.peer, two.peer],
      ready: () => until(() => link.connectedAddresses().length === 2, 3000, "both peripherals connected"),
      dispose: async () => undefined,
    };
  });
}

describe("BleLink behaviour", () => {
  let link: BleLink | undefined;
  afterEach(async () => {
    await link?.close();
    link = undefined;
  });

  function start(noble: FakeNoble, options: Partial<BleLinkOptions> & Pick<BleLinkOptions, "peripherals">) {
    const log = captureLog();
    const inbound = new FrameQueue();
    link = new BleLink({ noble, log, reconnect: { initialMs: 10, maxMs: 50 }, connectTimeoutMs: 100, ...options });
    return { link, log, inbound, opened: link.open(inbound.push) };
  }

  it("connects only to the configured peripherals offering the Nordic UART Service", async () => {
    const noble = poweredNoble();
    const wanted = device("aa0000000001", "wanted");
    const stranger = device("aa0000000002", "stranger");
    const noUart = new FakePeripheral({
      id: "aa0000000003",
      address: "aa:00:00:00:00:03",
      localName: "wanted-too",
      uart: false,
    });
    for (const p of [wanted.peripheral, stranger.peripheral, noUart]) noble.advertise(p);
    const { link, opened } = start(noble, { peripherals: [{ name: "wanted" }, { name: "wanted-too" }] });
    await opened;
    await until(() => link.connectedAddresses().length === 1, 2000, "the wanted peripheral connected");
    await new Promise((r) => setTimeout(r, 50));
    expect(link.connectedAddresses()).toEqual(["aa0000000001"]);
    expect(stranger.peripheral.connectCount).toBe(0);
    expect(noUart.connectCount).toBe(0);
    expect(noble.scanning).toBe(true);
  });

  it("waits for the adapter to power on before scanning", async () => {
    const noble = new FakeNoble();
    const one = device("bb0000000001", "one");
    noble.advertise(one.peripheral);
    const { link, log, opened } = start(noble, { peripherals: [{ name: "one" }] });
    await opened;
    expect(noble.scanning).toBe(false);
    expect(log.events()).toContain("ble-waiting-for-adapter");
    noble.setState("poweredOn");
    await until(() => link.connectedAddresses().length === 1, 2000, "connected after power on");
    expect(noble.scanning).toBe(false);
  });

  it("reconnects a peripheral that drops; its address stays the same and frames flow again", async () => {
    const noble = poweredNoble();
    const one = device("cc0000000001", "one");
    noble.advertise(one.peripheral);
    const { link, log, inbound, opened } = start(noble, { peripherals: [{ address: "cc:00:00:00:00:01" }] });
    await opened;
    await until(() => one.peripheral.subscribed, 2000, "subscribed");
    await one.peer.send(publishOfLength(10, 1));
    expect((await inbound.next()).address).toBe("cc0000000001");

    one.peripheral.drop(true);
    expect(link.connectedAddresses()).toEqual([]);
    expect(link.send("cc0000000001", publishOfLength(10, 2))).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(one.peripheral.subscribed).toBe(false);

    one.peripheral.inRange = true;
    await until(() => one.peripheral.subscribed && link.connectedAddresses().length === 1, 5000, "reconnected");
    const up = publishOfLength(30, 3);
    await one.peer.send(up);
    const got = await inbound.next();
    expect(toHex(got.frame)).toBe(toHex(up));
    expect(got.address).toBe("cc0000000001");
    const down = publishOfLength(30, 4);
    expect(link.send("cc0000000001", down)).toBe(true);
    expect(toHex((await one.peer.received.next()).frame)).toBe(toHex(down));
    expect(link.stats()).toMatchObject({ connects: 2, disconnects: 1 });
    expect(log.events()).toEqual(expect.arrayContaining(["ble-disconnected", "ble-connect-failed"]));
  });

  it("writes the RX characteristic in chunks that fit the ATT MTU, in order", async () => {
    const noble = poweredNoble();
    const one = device("dd0000000001", "one");
    noble.advertise(one.peripheral);
    const { link, opened } = start(noble, { peripherals: [{ name: "one" }], writeChunk: 20 });
    await opened;
    await until(() => link.connectedAddresses().length === 1, 2000, "connected");
    const frames = [publishOfLength(200, 1), publishOfLength(7, 2), publishOfLength(300, 3)];
    for (const f of frames) expect(link.send("dd0000000001", f)).toBe(true);
    for (const f of frames) expect(toHex((await one.peer.received.next()).frame)).toBe(toHex(f));
    expect(Math.max(...one.peripheral.written.map((w) => w.length))).toBe(20);
  });

  it("drops and counts notifications with a bad CRC", async () => {
    const noble = poweredNoble();
    const one = device("ee0000000001", "one");
    noble.advertise(one.peripheral);
    const { link, inbound, opened } = start(noble, { peripherals: [{ name: "one" }] });
    await opened;
    await until(() => one.peripheral.subscribed, 2000, "subscribed");
    const wire = createFramer("slip", 512, () => undefined).encode(publishOfLength(12, 1));
    wire[wire.length - 2] = (wire[wire.length - 2] as number) ^ 0x01;
    one.peripheral.notify(wire);
    const good = publishOfLength(12, 2);
    await one.peer.send(good);
    expect(toHex((await inbound.next()).frame)).toBe(toHex(good));
    expect(link.stats().badCrc).toBe(1);
  });

  it("says what to install when the noble package does not load", async () => {
    await expect(loadNoble("@stoprocent/noble-not-installed")).rejects.toThrow(
      /npm install @stoprocent\/noble-not-installed.*setcap/s,
    );
  });

  it("refuses to construct without a peripheral to look for", () => {
    expect(() => new BleLink({ noble: poweredNoble(), peripherals: [] })).toThrow(/at least one peripheral/);
    expect(() => new BleLink({ noble: poweredNoble(), peripherals: [{}] })).toThrow(/name or an address/);
  });
});
