import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../gateway/config";
import { defaultSleepConfig, validateSleepConfig } from "../../../gateway/sleep/config";

describe("sleep config", () => {
  it("merges given keys over the defaults", () => {
    const config = validateSleepConfig("sleep", {
      maxMessages: 20,
      clients: { meter: { maxBytes: 512 } },
      allowAddressChange: ["nbiot-1", "nbiot-1", "nbiot-2"],
      store: { path: "/var/lib/mqttsn/sessions", maxMessages: 5000 },
    });
    const defaults = defaultSleepConfig();
    expect(config.maxMessages).toBe(20);
    expect(config.maxBytes).toBe(defaults.maxBytes);
    expect(config.clients).toEqual({ meter: { maxBytes: 512 } });
    expect(config.allowAddressChange).toEqual(["nbiot-1", "nbiot-2"]);
    expect(config.store).toEqual({ ...defaults.store, path: "/var/lib/mqttsn/sessions", maxMessages: 5000 });
    expect(config.graceMs).toBe(defaults.graceMs);
  });

  it("defaults to a store under .data/ and bounded buffers", () => {
    const d = defaultSleepConfig();
    expect(d.store.path).toBe("./.data/sessions");
    expect(d.maxMessages).toBeGreaterThan(0);
    expect(d.maxBytes).toBeGreaterThan(0);
  });

  it.each([
    [{ maxMessages: 0 }, "sleep.maxMessages"],
    [{ maxBytes: "1k" }, "sleep.maxBytes"],
    [{ clients: { a: { maxMessages: -1 } } }, "sleep.clients.a.maxMessages"],
    [{ clients: { a: { max: 1 } } }, "sleep.clients.a.max"],
    [{ clients: [] }, "sleep.clients"],
    [{ allowAddressChange: "nbiot-1" }, "sleep.allowAddressChange"],
    [{ allowAddressChange: [""] }, "sleep.allowAddressChange"],
    [{ graceMs: 1.5 }, "sleep.graceMs"],
    [{ store: { path: 3 } }, "sleep.store.path"],
    [{ store: { maxSessions: 0 } }, "sleep.store.maxSessions"],
    [{ store: { dir: "x" } }, "sleep.store.dir"],
    [{ buffer: 1 }, "sleep.buffer"],
    [[], "sleep"],
  ])("rejects %j naming %s", (value, key) => {
    let error: unknown;
    try {
      validateSleepConfig("sleep", value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
  });
});
