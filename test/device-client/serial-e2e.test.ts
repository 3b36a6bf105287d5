import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { SerialPort } from "serialport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../support/test-gateway";
import { SerialLink } from "../../transports/serial/serial-link";
import { systemHas } from "../support/system";
import { ptyPair, type PtyPair } from "../transports/support/pty";
import { buildDeviceClient } from "./support/builds";
import { runEspruino } from "./support/espruino-vm";

/**
 * The Espruino bundle's serial transport (SLIP + CRC-16) to the real gateway's serial link, over a
 * kernel pseudo-terminal pair made by socat; the real broker behind the gateway. Serial1 in the vm is
 * the far end of the pty, opened with serialport.
 */
const hasSocat = systemHas(["socat"], "sudo apt-get install socat");
let dir = "";
let pty: PtyPair | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-device-serial-"));
  buildDeviceClient(dir);
  if (hasSocat) pty = await ptyPair();
}, 60_000);

afterAll(async () => {
  if (pty) await pty.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasSocat)("Espruino client over a serial line to the gateway", () => {
  it("connects, registers and publishes QoS 1 messages that reach the broker", async () => {
    const p = pty as PtyPair;
    const link = new SerialLink({ path: p.a, baudRate: 115200, framing: "slip" });
    const gateway = await startGateway({ udp: [{ host: "127.0.0.1", port: 0 }], embeddedPort: 0 }, { links: [link] });
    const watcher = await mqtt.connectAsync(gateway.brokerUrl, { clientId: "serial-watch" });
    const upstream: string[] = [];
    watcher.on("message", (topic, payload) => upstream.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync("serial/#", { qos: 1 });
    const port = new SerialPort({ path: p.b, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    try {
      const serial1 = {
        on: (_event: "data", listener: (data: string) => void) =>
          port.on("data", (b: Buffer) => listener(b.toString("latin1"))),
        write: (data: string) => {
          port.write(Buffer.from(data, "latin1"));
        },
      };
      const config = { clientId: "espruino-serial", topic: "serial/espruino", count: 3, qos: 1, serial: "Serial1" };
      const r = await runEspruino(join(dir, "espruino", "publish-full.min.js"), config, serial1);
      expect(r.ok, r.lines.join("\n")).toBe(true);
      expect(r.lines).toContain("acknowledged 3");
      for (let i = 0; i < 50 && upstream.length < 3; i++) await new Promise((res) => setTimeout(res, 20));
      expect(upstream).toEqual(["serial/espruino msg-1", "serial/espruino msg-2", "serial/espruino msg-3"]);
    } finally {
      await new Promise<void>((resolve) => port.close(() => resolve()));
      await watcher.endAsync();
      await gateway.close();
    }
  }, 60_000);
});
