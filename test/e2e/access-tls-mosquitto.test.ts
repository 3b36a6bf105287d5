import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startGateway } from "../../gateway/index";
import { ReturnCode } from "../../protocol";
import { startMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";

/** A throw-away CA, a server certificate for 127.0.0.1 and client certificates with these common names. */
function certificates(dir: string, clients: string[]): void {
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
  );
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  for (const [name, cn, ext] of [
    ["server", "127.0.0.1", ["-extfile", "san.ext"]],
    ...clients.map((c) => [c, c, []]),
  ] as Array<[string, string, string[]]>) {
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${cn}`,
    );
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "1",
      ...ext,
    );
  }
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
}

describe.runIf(systemHas(["mosquitto", "openssl"], "sudo apt-get install -y mosquitto openssl"))(
  "access: a TLS client certificate per entry, Mosquitto with use_identity_as_username",
  () => {
    it("connects each device with its entry's certificate, the others with the gateway's", async () => {
      const dir = mkdtempSync(join(tmpdir(), "mqttsn-access-tls-"));
      chmodSync(dir, 0o777);
      certificates(dir, ["cert-1", "gw"]);
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
