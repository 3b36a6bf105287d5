import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { describe, expect, it } from "vitest";
import { startGateway } from "../support/test-gateway";
import { MsgType } from "../../protocol";
import { startMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";
import { makeTestCertificates } from "../support/test-certificates";

/** A throw-away CA and a server certificate for 127.0.0.1, readable by the mosquitto user. */
function makeCertificates(): { dir: string; ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "gwtls-"));
  chmodSync(dir, 0o755);
  const c = makeTestCertificates(dir, "server");
  return { dir, ca: c.ca, cert: c.pem("server"), key: c.key("server") };
}

describe.runIf(systemHas(["mosquitto", "openssl"], "sudo apt-get install -y mosquitto openssl"))(
  "gateway to a TLS broker (mqtts://)",
  () => {
    it("connects with the configured CA and refuses a broker it cannot verify with CONNACK", async () => {
      const tls = makeCertificates();
      const mosquitto = await startMosquitto([`cafile ${tls.ca}`, `certfile ${tls.cert}`, `keyfile ${tls.key}`]);
      const url = `mqtts://127.0.0.1:${mosquitto.port}`;
      const trusting = await startGateway({
        udp: ["127.0.0.1:0"],
        broker: url,
        timers: { advertiseIntervalS: 0 },
        upstream: { caFile: tls.ca },
      });
      const untrusting = await startGateway({ udp: ["127.0.0.1:0"], broker: url, timers: { advertiseIntervalS: 0 } });
      const watcher = await mqtt.connectAsync(url, { ca: readFileSync(tls.ca), reconnectPeriod: 0 });
      await watcher.subscribeAsync("tls/#");
      const received = new Promise<string>((resolve) =>
        watcher.once("message", (topic, payload) => resolve(`${topic} ${payload.toString()}`)),
      );
      const a = await SnClient.open(trusting.udpAddresses[0] as string);
      const b = await SnClient.open(untrusting.udpAddresses[0] as string);
      try {
        expect(await a.connect("tls-1")).toBe(0);
        const reg = await a.register("tls/t");
        const msgId = a.publish(reg.topicId, "over tls", { qos: 1 });
        expect(await a.expect(MsgType.PubAck)).toMatchObject({ msgId, returnCode: 0 });
        expect(await received).toBe("tls/t over tls");
        // Without the CA the certificate cannot be verified: the client hears a refusal, not silence.
        expect(await b.connect("tls-2")).not.toBe(0);
      } finally {
        await watcher.endAsync();
        await a.close();
        await b.close();
        await trusting.close();
        await untrusting.close();
        await mosquitto.stop();
      }
    });
  },
);
