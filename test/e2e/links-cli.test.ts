import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import { parseCli } from "../../gateway/cli";
import { validateConfig } from "../../gateway/config";
import { startGatewayCommand, type GatewayCommand } from "../support/gateway-command";
import { systemHas } from "../support/system";
import { openSerialPeer, type SerialPeer } from "../transports/serial-peer";
import { ptyPair, type PtyPair } from "../transports/support/pty";
import { decodeFrame, FrameClient } from "./stream-client";

describe("serial and BLE settings", () => {
  it("--serial adds ports after the config file's, with the given baud rate and framing", () => {
    const dir = mkdtempSync(join(tmpdir(), "mqttsn-cli-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ serial: [{ path: "/dev/ttyAMA0", baudRate: 9600, framing: "raw" }] }));
    const cli = parseCli([
      "--config",
      file,
      "--serial",
      "/dev/ttyUSB0",
      "--serial",
      "/dev/ttyUSB1",
      "--serial-baud",
      "57600",
      "--serial-framing",
      "raw",
    ]);
    if (cli.kind !== "run") throw new Error("expected a run");
    expect(cli.config.serial).toEqual([
      { path: "/dev/ttyAMA0", baudRate: 9600, framing: "raw" },
      { path: "/dev/ttyUSB0", baudRate: 57600, framing: "raw" },
      { path: "/dev/ttyUSB1", baudRate: 57600, framing: "raw" },
    ]);
    const defaults = parseCli(["--serial", "/dev/ttyACM0"]);
    if (defaults.kind !== "run") throw new Error("expected a run");
    expect(defaults.config.serial).toEqual([{ path: "/dev/ttyACM0", baudRate: 115200, framing: "slip" }]);
  });

  it.each([
    [["--serial-baud", "9600"], /add --serial PATH/],
    [["--serial", "/dev/x", "--serial-baud", "fast"], /--serial-baud "fast" is not allowed; allowed: an integer/],
    [
      ["--serial", "/dev/x", "--serial-framing", "cobs"],
      /--serial-framing "cobs" is not allowed; allowed: slip or raw/,
    ],
    [
      ["--serial", "/dev/x", "--serial-baud", "10"],
      /serial\[0\]\.baudRate = 10 is not allowed; allowed: an integer from 50/,
    ],
  ])("refuses %j naming what is allowed", (args, message) => {
    expect(() => parseCli(args)).toThrow(message);
  });

  it.each([
    [{ serial: "/dev/ttyUSB0" }, /serial = "\/dev\/ttyUSB0" is not allowed; allowed: a list of/],
    [
      { serial: [{ path: "/dev/a", framing: "hdlc" }] },
      /serial\[0\]\.framing = "hdlc" is not allowed; allowed: "raw" or "slip"/,
    ],
    [
      { serial: [{ path: "/dev/a" }, { path: "/dev/a" }] },
      /serial\[1\]\.path = "\/dev\/a" is not allowed; allowed: a path not listed twice/,
    ],
    [
      { serial: [{ path: "/dev/a", baud: 9600 }] },
      /serial\[0\]\.baud .*no such key; known keys: path, baudRate, framing, mtu/,
    ],
    [{ ble: { peripherals: [{}] } }, /ble\.peripherals\[0\] = \{\} is not allowed/],
    [
      { ble: { peripherals: [{ address: "nope" }] } },
      /ble\.peripherals\[0\]\.address = "nope" is not allowed; allowed: a Bluetooth address/,
    ],
    [
      { ble: { framing: "raw", scan: true } },
      /ble\.scan = true is not allowed; allowed: no such key; known keys: peripherals, framing/,
    ],
  ])("config %j is refused with key, value and what is allowed", (input, message) => {
    expect(() => validateConfig(input)).toThrow(message);
  });

  it("accepts a full serial and ble section", () => {
    const config = validateConfig({
      serial: [{ path: "/dev/mqttsn-radio", baudRate: 9600, framing: "raw", mtu: 255 }],
      ble: { peripherals: [{ name: "Puck.js 1a2b" }, { address: "C0:FF:EE:00:00:02" }], framing: "slip" },
    });
    expect(config.serial).toEqual([{ path: "/dev/mqttsn-radio", baudRate: 9600, framing: "raw", mtu: 255 }]);
    expect(config.ble.peripherals).toHaveLength(2);
  });
});

const canRun = systemHas(["socat"], "apt-get install socat");

describe.runIf(canRun)("mqttsn-gateway --serial", () => {
  let gateway: GatewayCommand | undefined;
  let pty: PtyPair | undefined;
  let peer: SerialPeer | undefined;
  afterEach(async () => {
    await gateway?.stop();
    await peer?.close();
    await pty?.dispose();
    gateway = peer = pty = undefined;
  });

  for (const framing of ["slip", "raw"] as const) {
    it(`serves a client on a ${framing} serial port given on the command line`, async () => {
      pty = await ptyPair();
      const args = ["--udp", "127.0.0.1:0", "--embedded-port", "0"];
      args.push("--serial", pty.a, "--serial-baud", "38400", "--serial-framing", framing);
      const started = await startGatewayCommand({ args, readyTimeoutMs: 15_000 });
      gateway = started;
      expect(started.readyLine).toContain(`serial:${pty.a}`);
      peer = await openSerialPeer(pty.b, framing);
      const device = new FrameClient(`cli ${framing}`, (f) => void peer!.send(f));
      let stop = false;
      void (async () => {
        while (!stop) {
          const got = await peer!.received.next(200).catch(() => undefined);
          if (got) device.deliver(decodeFrame(got.frame));
        }
      })();
      try {
        expect(await device.connect(`cli-${framing}`)).toBe(0);
        device.send({ type: MsgType.PingReq, clientId: undefined });
        await device.expect(MsgType.PingResp);
      } finally {
        stop = true;
      }
    });
  }
});
