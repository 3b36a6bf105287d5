import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCli } from "../../../gateway/cli";
import { defaultConfig, loadConfigFile, validateConfig } from "../../../gateway/config";
import { dtlsLinksFor } from "../../../gateway/dtls/links";

describe("the dtls config key", () => {
  it("is off by default: no listeners, no links", () => {
    const config = defaultConfig();
    expect(config.dtls.listen).toEqual([]);
    expect(dtlsLinksFor(config.dtls, 1232, console as never)).toEqual([]);
  });

  it("takes listeners as HOST:PORT and keeps its limits", () => {
    const config = validateConfig({ dtls: { listen: ["127.0.0.1:8884", "[::1]:8884"], maxPeers: 10 } });
    expect(config.dtls.listen).toEqual([
      { host: "127.0.0.1", port: 8884 },
      { host: "::1", port: 8884 },
    ]);
    expect(config.dtls.maxPeers).toBe(10);
    expect(validateConfig(config).dtls).toEqual(config.dtls);
  });

  it("refuses psk, saying why", () => {
    expect(() => validateConfig({ dtls: { psk: { "device-1": "secret" } } })).toThrow(/no PSK cipher suite/);
  });

  it("refuses an unknown key and a bad listener", () => {
    expect(() => validateConfig({ dtls: { certfile: "x" } })).toThrow(/dtls.certfile.*known keys/);
    expect(() => validateConfig({ dtls: { listen: ["8884"] } })).toThrow(/dtls.listen\[0\]/);
  });

  it("takes certFile, keyFile and caFile relative to the config file's folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "dtls-config-"));
    try {
      const file = join(dir, "gateway.json");
      writeFileSync(
        file,
        JSON.stringify({ dtls: { certFile: "gw.crt", keyFile: "keys/gw.key", caFile: "/etc/ca.pem" } }),
      );
      const config = loadConfigFile(file);
      expect(config.dtls.certFile).toBe(join(dir, "gw.crt"));
      expect(config.dtls.keyFile).toBe(join(dir, "keys/gw.key"));
      expect(config.dtls.caFile).toBe("/etc/ca.pem");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--dtls replaces the listeners and keeps the files of the config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "dtls-config-"));
    try {
      const file = join(dir, "gateway.json");
      writeFileSync(
        file,
        JSON.stringify({ dtls: { listen: ["0.0.0.0:8884"], certFile: "gw.crt", keyFile: "gw.key" } }),
      );
      const result = parseCli(["--config", file, "--dtls", "127.0.0.1:9884", "--dtls", "[::1]:9884"]);
      if (result.kind !== "run") throw new Error("expected a run");
      expect(result.config.dtls.listen).toEqual([
        { host: "127.0.0.1", port: 9884 },
        { host: "::1", port: 9884 },
      ]);
      expect(result.config.dtls.certFile).toBe(join(dir, "gw.crt"));
      expect(() => parseCli(["--dtls", "nowhere"])).toThrow(/--dtls "nowhere" is not allowed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a listener without certFile stops the gateway naming the key", () => {
    const config = validateConfig({ dtls: { listen: ["127.0.0.1:0"] } });
    expect(() => dtlsLinksFor(config.dtls, 1232, console as never)).toThrow(/dtls.certFile/);
  });
});
