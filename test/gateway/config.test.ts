import { describe, expect, it } from "vitest";
import { ConfigError, defaultConfig, validateConfig } from "../../gateway/config";

function rejection(input: unknown): ConfigError {
  try {
    validateConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("the config was accepted");
}

describe("gateway config", () => {
  it("accepts a full valid config and merges it over the defaults", () => {
    const c = validateConfig({
      gatewayId: 9,
      udp: ["0.0.0.0:1884", "[::]:1885"],
      broker: "mqtts://broker.example:8883",
      limits: { maxClients: 5 },
      timers: { tRetryMs: 500 },
      predefinedTopics: { global: { "a/b": 1 }, clients: { dev: { "c/d": 2 } } },
      upstream: { username: "u", password: "p" },
    });
    expect(c.udp).toEqual([
      { host: "0.0.0.0", port: 1884 },
      { host: "::", port: 1885 },
    ]);
    expect(c.limits.maxClients).toBe(5);
    expect(c.limits.maxTopicsPerClient).toBe(defaultConfig().limits.maxTopicsPerClient);
    expect(c.timers.tRetryMs).toBe(500);
    expect(c.predefinedTopics.clients.dev).toEqual({ "c/d": 2 });
  });

  it("limits CONNECTs per source by default: 8 handshakes at once, 20 a second; both configurable", () => {
    expect(defaultConfig().limits).toMatchObject({ maxHandshakesPerSource: 8, maxConnectsPerSecondPerSource: 20 });
    const c = validateConfig({ limits: { maxHandshakesPerSource: 2, maxConnectsPerSecondPerSource: 500 } });
    expect(c.limits).toMatchObject({ maxHandshakesPerSource: 2, maxConnectsPerSecondPerSource: 500, maxClients: 1000 });
  });

  it.each([
    [{ nope: 1 }, "nope", "no such key"],
    [{ limits: { maxClient: 3 } }, "limits.maxClient", "known keys: maxClients"],
    [{ limits: { maxClients: 0 } }, "limits.maxClients", "an integer from 1"],
    [{ timers: { tRetryMs: "10" } }, "timers.tRetryMs", "an integer"],
    [{ gatewayId: 256 }, "gatewayId", "from 0 to 255"],
    [{ udp: ["localhost"] }, "udp[0]", "HOST:PORT"],
    [{ broker: "http://x" }, "broker", '"embedded" or a URL'],
    [{ predefinedTopics: { global: { "a/+": 1 } } }, "predefinedTopics.global.a/+", "without wildcards"],
    [{ predefinedTopics: { global: { "#": 1 } } }, "predefinedTopics.global.#", '"+" and "#" belong to subscriptions'],
    [
      { predefinedTopics: { clients: { "node-7": { "node-7/cmd#": 2 } } } },
      "predefinedTopics.clients.node-7.node-7/cmd#",
      "a non-empty topic name without wildcards",
    ],
    [{ limits: { maxHandshakesPerSource: 0 } }, "limits.maxHandshakesPerSource", "an integer from 1 to 1000000"],
    [{ limits: { maxHandshakesPerSource: 2.5 } }, "limits.maxHandshakesPerSource", "an integer from 1"],
    [
      { limits: { maxConnectsPerSecondPerSource: "20" } },
      "limits.maxConnectsPerSecondPerSource",
      "an integer from 1 to 1000000",
    ],
    [{ limits: { maxConnectsPerSecondPerSource: -1 } }, "limits.maxConnectsPerSecondPerSource", "an integer from 1"],
    [{ predefinedTopics: { global: { a: 1, b: 1 } } }, "predefinedTopics.global.b", "not used by another topic"],
    [{ upstream: { rejectUnauthorized: "no" } }, "upstream.rejectUnauthorized", "true or false"],
    [{ logLevel: "loud" }, "logLevel", "debug, info, warn, error, silent"],
  ])("rejects %j naming the key, the value and what is allowed", (input, key, allowed) => {
    const err = rejection(input);
    expect(err.key).toBe(key);
    expect(err.message).toContain(key);
    expect(err.message).toContain(allowed);
    expect(err.allowed).toContain(allowed);
  });
});

describe("throttled log", () => {
  it("passes one warning per event name and interval, then reports how many were held back", async () => {
    const { throttled } = await import("../../gateway/log");
    const lines: Array<[string, Record<string, unknown> | undefined]> = [];
    let t = 0;
    const record = (event: string, fields?: Record<string, unknown>): void => {
      lines.push([event, fields]);
    };
    const log = throttled({ debug: record, info: record, warn: record, error: record }, 1000, () => t);
    for (let i = 0; i < 5; i++) log.warn("limit-hit", { i });
    log.warn("other", {});
    log.info("session-state", {});
    log.info("session-state", {});
    t = 1500;
    log.warn("limit-hit", { i: 9 });
    expect(lines).toEqual([
      ["limit-hit", { i: 0 }],
      ["other", {}],
      ["session-state", {}],
      ["session-state", {}],
      ["limit-hit", { i: 9, suppressed: 4 }],
    ]);
  });
});
