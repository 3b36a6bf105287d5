/**
 * A sleeping client restored after a restart gets the grant of the access config it would get on CONNECT: its
 * mountpoint is on its topics at the broker and is taken off what the broker sends back. Mosquitto keeps the
 * gateway's upstream session (CleanSession 0) across the gateway's SIGKILL, so messages published meanwhile wait
 * at the broker under the mounted topic.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freeUdpPort, startGatewayCommand } from "../support/gateway-command";
import { startMosquitto } from "../support/mosquitto";
import { systemHas } from "../support/system";
import { SleepyDevice } from "./sleepy-device";

const root = await mkdtemp(join(tmpdir(), "mqttsn-access-restart-"));
afterAll(() => rm(root, { recursive: true, force: true }));

describe.runIf(systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"))(
  "access grant of a session restored after a restart",
  () => {
    const cleanup: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    it("a restored sleeper keeps its entry's mountpoint: the broker's messages reach it without the prefix", async () => {
      const mosquitto = await startMosquitto();
      cleanup.push(() => mosquitto.stop());
      const port = await freeUdpPort();
      const config = {
        sleep: { store: { path: join(root, `store-${port}`) } },
        timers: { advertiseIntervalS: 0 },
        access: {
          default: "deny",
          clients: [{ clientId: "mp-*", mountpoint: "site-a/%c/", subscribe: ["cmd/%c/#"] }],
        },
      };
      const args = ["--udp", `127.0.0.1:${port}`, "--broker", mosquitto.url, "--log-level", "debug"];

      const first = await startGatewayCommand({ args, config });
      cleanup.push(() => first.stop("SIGKILL"));
      const device = await SleepyDevice.open(`127.0.0.1:${port}`, "mp-1");
      cleanup.push(() => device.close());
      await device.connectPersistent();
      await device.subscribe("cmd/mp-1/#", 1);
      await device.goToSleep(120);
      const publisher = await mqtt.connectAsync(mosquitto.url, { reconnectPeriod: 0, clientId: "mp-publisher" });
      cleanup.push(() => publisher.endAsync(true));
      const held = (g: typeof first): number =>
        g.records().filter((r) => r.event === "sleep-held" && r.clientId === "mp-1" && r.durable === true).length;
      for (let i = 0; i < 2; i++) await publisher.publishAsync("site-a/mp-1/cmd/mp-1/set", `v${i}`, { qos: 1 });
      await first.waitFor("two messages held durably", () => held(first) >= 2);
      expect(await first.stop("SIGKILL")).toBe(null);

      const second = await startGatewayCommand({ args, config });
      cleanup.push(() => second.stop());
      await second.waitFor("the sleeper restored", () =>
        second.records().some((r) => r.event === "session-restored" && r.clientId === "mp-1"),
      );
      // Published after the restart: it comes through the restored session's upstream connection.
      await publisher.publishAsync("site-a/mp-1/cmd/mp-1/set", "v2", { qos: 1 });
      await second.waitFor("the third message held", () => held(second) >= 1);
      const got = await device.wake();
      expect(got.map((m) => [m.topic, m.payload])).toEqual([
        ["cmd/mp-1/set", "v0"],
        ["cmd/mp-1/set", "v1"],
        ["cmd/mp-1/set", "v2"],
      ]);
    });
  },
);
