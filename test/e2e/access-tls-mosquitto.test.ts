import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startGateway } from "../../gateway/index";
import { ReturnCode } from "../../protocol";
import { startMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { makeTestCertificates } from "../support/test-certificates";

describe.runIf(systemHas(["mosquitto", "openssl"], "sudo apt-get install -y mosquitto openssl"))(
  "access: a TLS client certificate per entry, Mosquitto with use_identity_as_username",
  () => {
    it("connects each device with its entry's certificate, the others with the gateway's", async () => {
      const dir = mkdtempSync(join(tmpdir(), "mqttsn-access-tls-"));
      chmodSync(dir, 0o777);
      makeTestCertificates(dir, "server", ["cert-1", "gw"]);
      const logFile = join(dir, "mosquitto.log");
      const mosquitto = await startMosquitto([
        `cafile ${join(dir, "ca.pem")}`,
        `certfile ${join(dir, "server.pem")}`,
        `keyfile ${join(dir, "server.key")}`,
        "require_certificate true",
        "use_identity_as_username true",
        `log_dest file ${logFile}`,
        "log_type all",
      ]);
      const gateway = await startGateway({
        udp: ["127.0.0.1:0"],
        broker: `mqtts://127.0.0.1:${mosquitto.port}`,
        timers: { advertiseIntervalS: 0 },
        sleep: { store: { path: "" } },
        upstream: { caFile: join(dir, "ca.pem"), certFile: join(dir, "gw.pem"), keyFile: join(dir, "gw.key") },
        access: {
          default: "deny",
          clients: [
            { clientId: "cert-1", certFile: join(dir, "cert-1.pem"), keyFile: join(dir, "cert-1.key") },
            { clientId: "plain-1" },
          ],
        },
      });
      const device = await SnClient.open(gateway.udpAddresses[0] as string);
      const log = (): string => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
      const logged = async (text: string): Promise<void> => {
        const deadline = Date.now() + 4000;
        while (!log().includes(text)) {
          if (Date.now() > deadline) throw new Error(`Mosquitto never logged ${text}:\n${log()}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      try {
        expect(await device.connect("cert-1")).toBe(ReturnCode.Accepted);
        await logged("as cert-1 (p2, c1, k60, u'cert-1')");
        expect(await device.connect("plain-1")).toBe(ReturnCode.Accepted);
        await logged("as plain-1 (p2, c1, k60, u'gw')");
        expect(await device.connect("other")).toBe(ReturnCode.NotSupported);
      } finally {
        await device.close();
        await gateway.close();
        await mosquitto.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
