import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { makeDtlsCerts } from "../support/dtls-certs";
import { freeUdpPort, startGatewayCommand } from "../support/gateway-command";
import { systemHas } from "../support/system";
import { exampleCommand, exampleFlags, runExampleProcess } from "./support/example-command";

const certs = systemHas(["openssl"], "apt-get install openssl") ? makeDtlsCerts() : undefined;
afterAll(() => certs?.remove());

/**
 * The Node publish example as a process with --dtls: it trusts the test CA, shows a device certificate the
 * CA issued, and publishes through the gateway command's DTLS listener to the embedded broker.
 */
describe.skipIf(certs === undefined)("the Node example over DTLS", () => {
  const c = certs as NonNullable<typeof certs>;

  it("publishes through the gateway's DTLS listener, and refuses a gateway its CA did not issue", async () => {
    const port = await freeUdpPort();
    const gateway = await startGatewayCommand({
      args: ["--udp", "127.0.0.1:0", "--dtls", `127.0.0.1:${port}`],
      config: { embeddedPort: 0, dtls: { certFile: c.serverCertFile, keyFile: c.serverKeyFile, caFile: c.caFile } },
    });
    const watcher = await mqtt.connectAsync(gateway.brokerUrl, { clientId: "watch-dtls-example" });
    const upstream: string[] = [];
    watcher.on("message", (topic, payload) => upstream.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync("dtls/example", { qos: 1 });
    try {
      const flags = exampleFlags({
        host: "127.0.0.1",
        port,
        clientId: "dtls-example",
        topic: "dtls/example",
        count: 3,
        qos: 1,
        subscribe: "",
      });
      const dtls = ["--dtls", c.caFile, "--cert", c.clientCertFile, "--key", c.clientKeyFile];
      const run = await runExampleProcess(exampleCommand("node", "", [...flags, ...dtls]));
      expect(run.code, run.stderr).toBe(0);
      for (let i = 0; i < 100 && upstream.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      expect(upstream).toHaveLength(3);
      expect(upstream.every((m) => m.startsWith("dtls/example "))).toBe(true);

      const distrust = ["--dtls", c.strangerCertFile, "--cert", c.clientCertFile, "--key", c.clientKeyFile];
      const refused = await runExampleProcess(exampleCommand("node", "", [...flags, ...distrust]));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/gateway not trusted/);
    } finally {
      await watcher.endAsync();
      await gateway.stop();
    }
  });
});
