import { describe, expect, it } from "vitest";
import { ConfigError } from "../../gateway";
import { MsgType } from "../../protocol";
import { gatewayPerTest } from "./helpers";

describe("RunningGateway.reload", () => {
  const { start, client } = gatewayPerTest(() => "embedded");

  it("lowers limits.maxClients: a new CONNECT gets congestion, the connected client stays", async () => {
    const h = await start({ limits: { maxClients: 2 } });
    const first = await client();
    expect(await first.connect("reload-1")).toBe(0);

    const result = h.gateway.reload({ ...h.gateway.config, limits: { ...h.gateway.config.limits, maxClients: 1 } });
    expect(result).toEqual({ applied: ["limits"], restartNeeded: [] });
    expect(h.gateway.config.limits.maxClients).toBe(1);

    const second = await client();
    expect(await second.connect("reload-2")).toBe(1);
    first.send({ type: MsgType.PingReq, clientId: undefined });
    await first.expect(MsgType.PingResp);
    expect(h.gateway.sessionCount()).toBe(1);

    h.gateway.reload({ ...h.gateway.config, limits: { ...h.gateway.config.limits, maxClients: 2 } });
    expect(await second.connect("reload-2")).toBe(0);
    expect(h.gateway.sessionCount()).toBe(2);
  });

  it("gives a client its new predefined topics from its next session", async () => {
    const h = await start();
    const c = await client();
    expect(await c.connect("reload-3")).toBe(0);
    const predefined = { global: {}, clients: { "reload-3": { "reload/cmd": 7 } } };
    expect(h.gateway.reload({ ...h.gateway.config, predefinedTopics: predefined }).applied).toEqual([
      "predefinedTopics",
    ]);
    // The running session keeps the ids it was given (§2.3: predefined ids are known before the CONNECT).
    expect((await c.subscribe({ predefined: 7 }, 0)).returnCode).toBe(2);
    c.send({ type: MsgType.Disconnect, duration: undefined });
    await c.expect(MsgType.Disconnect);
    expect(await c.connect("reload-3")).toBe(0);
    expect((await c.subscribe({ predefined: 7 }, 0)).returnCode).toBe(0);
  });

  it("refuses a config that fails validation and keeps the running one", async () => {
    const h = await start({ limits: { maxInflight: 7 } });
    const before = h.gateway.config;
    expect(() => h!.gateway.reload({ limits: { maxInflight: 0 } })).toThrow(ConfigError);
    expect(() => h!.gateway.reload({ limits: { maxInflight: 0 } })).toThrow(
      "config: limits.maxInflight = 0 is not allowed; allowed: an integer from 1 to 65535",
    );
    expect(h.gateway.config).toBe(before);
    expect(h.gateway.config.limits.maxInflight).toBe(7);
  });
});
