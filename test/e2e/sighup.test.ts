import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MsgType } from "../../protocol";
import { startGatewayCommand, type LogRecord, type StartedGateway } from "../support/gateway-command";
import { SnClient } from "../support/sn-client";
import { Watcher } from "./helpers";

/** The config file of the running gateway, rewritten between reloads. */
function configFile(
  dir: string,
  overrides: { limits?: object; predefinedTopics?: object; [key: string]: unknown },
): string {
  const file = join(dir, "gateway.json");
  writeFileSync(
    file,
    JSON.stringify({
      udp: ["127.0.0.1:0"],
      broker: "embedded",
      embeddedPort: 0,
      advertiseTarget: "",
      logLevel: "warn",
      sleep: { store: { path: "" } },
      ...overrides,
    }),
  );
  return file;
}

describe("SIGHUP", () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it("puts new limits, predefined topics and the log level in force while a device stays connected", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mqttsn-sighup-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = configFile(dir, {
      limits: { maxMessageSize: 200 },
      predefinedTopics: { global: { "sensors/status": 1 } },
    });
    const gateway: StartedGateway = await startGatewayCommand({ args: ["--config", file] });
    cleanup.push(async () => void (await gateway.stop()));
    const watcher = await Watcher.connect(gateway.brokerUrl);
    cleanup.push(() => watcher.close());
    const device = await SnClient.open(gateway.udp);
    cleanup.push(() => device.close());
    const anonymous = await SnClient.open(gateway.udp);
    cleanup.push(() => anonymous.close());

    expect(await device.connect("sighup-1", { duration: 600 })).toBe(0);
    const topicId = (await device.register("sighup/t")).topicId;
    /** PUBLISH QoS 1 of `octets` payload octets (7 more for the header): the PUBACK's return code. */
    const publish = async (octets: number): Promise<number> => {
      const msgId = device.publish(topicId, "x".repeat(octets), { qos: 1 });
      const ack = await device.expect(MsgType.PubAck);
      expect(ack.msgId).toBe(msgId);
      return ack.returnCode;
    };
    const stillConnected = async (): Promise<void> => {
      device.send({ type: MsgType.PingReq, clientId: undefined });
      await device.expect(MsgType.PingResp);
      expect(device.pending().filter((m) => m.type === MsgType.Disconnect)).toEqual([]);
    };
    const record = (event: string, after: number): Promise<LogRecord> =>
      gateway
        .waitFor(event, () =>
          gateway
            .records()
            .slice(after)
            .some((r) => r.event === event),
        )
        .then(
          () =>
            gateway
              .records()
              .slice(after)
              .find((r) => r.event === event) as LogRecord,
        );

    expect(await publish(60)).toBe(0);
    // Predefined id 2 is not known yet: the QoS -1 PUBLISH is dropped. SEARCHGW after it, from the same
    // socket: once GWINFO is back the gateway has handled the PUBLISH, before the reload below.
    anonymous.publish(2, "before", { qos: -1, topicIdType: 1 });
    anonymous.send({ type: MsgType.SearchGw, radius: 0 });
    await anonymous.expect(MsgType.GwInfo);

    configFile(dir, {
      logLevel: "info",
      limits: { maxMessageSize: 40 },
      predefinedTopics: { global: { "sensors/status": 1, "sensors/alarm": 2 } },
    });
    let seen = gateway.records().length;
    process.kill(gateway.pid, "SIGHUP");
    // An info record: the new log level is in force.
    const reloaded = await record("config-reloaded", seen);
    expect(reloaded.level).toBe("info");
    expect(reloaded.applied).toEqual(["logLevel", "limits", "predefinedTopics"]);
    expect((reloaded.limits as { maxMessageSize: number }).maxMessageSize).toBe(40);

    expect(await publish(60)).toBe(1);
    expect(await publish(20)).toBe(0);
    anonymous.publish(2, "after", { qos: -1, topicIdType: 1 });
    await watcher.waitFor((m) => m.topic === "sensors/alarm" && m.payload === "after");
    expect(watcher.count((m) => m.payload === "before")).toBe(0);
    await stillConnected();

    // A value the schema refuses: logged with key, value and what is allowed; the running config stays.
    configFile(dir, { logLevel: "info", limits: { maxMessageSize: 5 } });
    seen = gateway.records().length;
    process.kill(gateway.pid, "SIGHUP");
    const failed = await record("config-reload-failed", seen);
    expect(failed).toMatchObject({
      level: "error",
      key: "limits.maxMessageSize",
      value: 5,
      allowed: "an integer from 16 to 65535",
      action: "the running config stays",
    });
    expect(await publish(60)).toBe(1);
    expect(await publish(20)).toBe(0);
    await stillConnected();

    // A key that needs a restart keeps its running value and is named.
    configFile(dir, {
      logLevel: "info",
      gatewayId: 9,
      limits: { maxMessageSize: 100 },
      predefinedTopics: { global: { "sensors/status": 1, "sensors/alarm": 2 } },
    });
    seen = gateway.records().length;
    process.kill(gateway.pid, "SIGHUP");
    const restart = await record("config-reload-restart-needed", seen);
    expect(restart.keys).toEqual(["gatewayId"]);
    expect(await publish(60)).toBe(0);
    await stillConnected();

    expect(gateway.foreignOutput()).toEqual([]);
    expect(await gateway.stop()).toBe(0);
  });
});
