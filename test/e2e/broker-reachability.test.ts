/**
 * An unreachable broker, as the gateway command reports it at its default log level: a warning with the
 * retry cadence, devices refused with CONNACK congestion, and the way back once a real broker listens.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MsgType, ReturnCode } from "../../protocol";
import { freePort, startMosquitto, type RunningMosquitto } from "../support/mosquitto";
import { startGatewayCommand, type StartedGateway } from "../support/gateway-command";
import { SnClient } from "../support/sn-client";
import { systemHas } from "../support/system";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The gateway's retry cadence for its own broker connection. */
const RETRY_MS = 5000;

describe.runIf(systemHas(["mosquitto"], "sudo apt-get install -y mosquitto"))("broker reachability", () => {
  it("warns that the broker is unreachable with the retry cadence, refuses devices, and recovers when it listens", async () => {
    const port = await freePort();
    const gateway: StartedGateway = await startGatewayCommand({
      args: ["--udp", "127.0.0.1:0", "--broker", `mqtt://gw:s3cret-pw@127.0.0.1:${port}`],
    });
    cleanup.push(() => gateway.stop());

    await gateway.waitFor("broker-unreachable", () => gateway.records().some((r) => r.event === "broker-unreachable"));
    const warning = gateway.records().find((r) => r.event === "broker-unreachable");
    expect(warning).toMatchObject({
      level: "warn",
      broker: `mqtt://gw:[redacted]@127.0.0.1:${port}`,
      retryMs: RETRY_MS,
      attempts: 1,
    });
    expect(warning?.error).toMatch(/ECONNREFUSED/);
    expect(warning?.action).toContain("retrying every 5 s");
    expect(gateway.stderr()).not.toContain("s3cret-pw");

    const device = await SnClient.open(gateway.udp);
    cleanup.push(() => device.close());
    expect(await device.connect("reach-1")).toBe(ReturnCode.Congestion);

    // A broker now listens on that port (a second listener of a Mosquitto that accepts anyone).
    const mosquitto: RunningMosquitto = await startMosquitto([`listener ${port} 127.0.0.1`]);
    cleanup.push(() => mosquitto.stop());
    await gateway.waitFor(
      "broker-reachable",
      () => gateway.records().some((r) => r.event === "broker-reachable"),
      RETRY_MS + 5000,
    );
    const back = gateway.records().find((r) => r.event === "broker-reachable");
    expect(back).toMatchObject({ level: "warn", broker: `mqtt://gw:[redacted]@127.0.0.1:${port}` });
    expect(back?.attempts).toBeGreaterThanOrEqual(1);
    expect(back?.downForMs).toBeGreaterThan(0);

    device.clear();
    expect(await device.connect("reach-1")).toBe(ReturnCode.Accepted);
    device.send({ type: MsgType.Disconnect, duration: undefined });
    await device.expect(MsgType.Disconnect);
    expect(gateway.foreignOutput()).toEqual([]);
  });

  it("warns again when a reachable broker goes away", async () => {
    const mosquitto = await startMosquitto();
    const gateway = await startGatewayCommand({ args: ["--udp", "127.0.0.1:0", "--broker", mosquitto.url] });
    cleanup.push(() => gateway.stop());
    // At the default level the first contact is not reported; the gateway is connected once it serves a device.
    const device = await SnClient.open(gateway.udp);
    cleanup.push(() => device.close());
    expect(await device.connect("reach-2")).toBe(ReturnCode.Accepted);
    expect(gateway.records().filter((r) => r.event.startsWith("broker-"))).toEqual([]);

    await mosquitto.stop();
    await gateway.waitFor("broker-unreachable", () => gateway.records().some((r) => r.event === "broker-unreachable"));
    expect(gateway.records().find((r) => r.event === "broker-unreachable")).toMatchObject({
      level: "warn",
      broker: mosquitto.url,
      retryMs: RETRY_MS,
    });
  });
});
