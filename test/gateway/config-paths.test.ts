/**
 * Paths in a config file are relative to the file's folder; a TLS file is read only for a TLS broker URL,
 * and one that cannot be read stops the gateway naming its key. The README's config example works as it
 * is written.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, startGateway } from "../../gateway/index";
import { ReturnCode } from "../../protocol";
import { startMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { GATEWAY_BIN, spawnGateway, type SpawnedGateway } from "../support/spawned-gateway";
import { systemHas } from "../support/system";
import { makeTestCertificates } from "../support/test-certificates";

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeConfig(dir: string, config: object | string): string {
  const file = join(dir, "gateway.json");
  writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config));
  return file;
}

/** The gateway command with this config file, run from `cwd`, ports chosen by the system. */
function runGateway(file: string, cwd: string, extra: string[] = []): SpawnedGateway {
  const g = spawnGateway(
    process.execPath,
    [GATEWAY_BIN, "--config", file, "--udp", "127.0.0.1:0", "--embedded-port", "0", ...extra],
    { cwd, env: process.env },
  );
  cleanup.push(() => g.stop());
  return g;
}

async function connects(udp: string, clientId: string): Promise<number> {
  const client = await SnClient.open(udp);
  cleanup.push(() => client.close());
  return client.connect(clientId);
}

describe("paths in a config file", () => {
  it("are taken from the config file's folder, whatever the working directory", () => {
    const dir = tempDir("gwcfg-");
    const file = writeConfig(dir, {
      upstream: { caFile: "tls/ca.pem", certFile: "./gw.pem", keyFile: "/etc/mqttsn/gw.key" },
      sleep: { store: { path: "state/sessions" } },
    });
    const config = loadConfigFile(file);
    expect(config.upstream).toMatchObject({
      caFile: join(dir, "tls/ca.pem"),
      certFile: join(dir, "gw.pem"),
      keyFile: "/etc/mqttsn/gw.key",
    });
    expect(config.sleep.store.path).toBe(join(dir, "state/sessions"));
  });

  it("leave what the file does not give as it is: the default store path, and no store at all", () => {
    const dir = tempDir("gwcfg-");
    expect(loadConfigFile(writeConfig(dir, {})).sleep.store.path).toBe("./.data/sessions");
    expect(loadConfigFile(writeConfig(dir, { sleep: { store: { path: "" } } })).sleep.store.path).toBe("");
    expect(loadConfigFile(writeConfig(dir, {})).upstream.caFile).toBeUndefined();
  });
});

describe("files of access entries", () => {
  it("passwordFile, certFile and keyFile are taken from the config file's folder, whatever the working directory", () => {
    const dir = tempDir("gwcfg-");
    mkdirSync(join(dir, "secrets"));
    writeFileSync(join(dir, "secrets/d1.pw"), "pw-of-d1\n");
    writeFileSync(join(dir, "d1.crt"), "certificate");
    writeFileSync(join(dir, "d1.key"), "key");
    const file = writeConfig(dir, {
      access: {
        clients: [
          { clientId: "d1", passwordFile: "secrets/d1.pw", certFile: "./d1.crt", keyFile: "d1.key" },
          { clientId: "d2", passwordFile: join(dir, "secrets/d1.pw") },
        ],
      },
    });
    const entries = loadConfigFile(file).access?.clients;
    expect(entries?.[0]).toMatchObject({
      passwordFile: join(dir, "secrets/d1.pw"),
      password: "pw-of-d1",
      certFile: join(dir, "d1.crt"),
      keyFile: join(dir, "d1.key"),
    });
    expect(entries?.[1]).toMatchObject({ passwordFile: join(dir, "secrets/d1.pw"), password: "pw-of-d1" });
  });

  it("the command started from another folder reads a relative passwordFile next to the config file", async () => {
    const dir = tempDir("gwcfg-");
    writeFileSync(join(dir, "d1.pw"), "secret");
    const file = writeConfig(dir, {
      access: { default: "deny", clients: [{ clientId: "d1", username: "d1", passwordFile: "d1.pw" }] },
    });
    const g = runGateway(file, tempDir("gwcwd-"));
    await g.ready();
    expect(await connects(g.udp(), "d1")).toBe(ReturnCode.Accepted);
    expect(await connects(g.udp(), "d2")).toBe(ReturnCode.NotSupported);
  });

  it("the command names the key and the full path of a relative passwordFile that is missing", async () => {
    const dir = tempDir("gwcfg-");
    const file = writeConfig(dir, { access: { clients: [{ clientId: "d1", passwordFile: "d1.pw" }] } });
    const g = runGateway(file, tempDir("gwcwd-"));
    expect(await g.exited).toBe(2);
    expect(g.stderr()).toContain("access.clients[0].passwordFile");
    expect(g.stderr()).toContain(join(dir, "d1.pw"));
  });
});

describe("TLS files", () => {
  it("are not read when the broker URL does not use TLS", async () => {
    const gateway = await startGateway({
      udp: ["127.0.0.1:0"],
      embeddedPort: 0,
      timers: { advertiseIntervalS: 0 },
      upstream: { caFile: "/nonexistent/ca.pem", certFile: "/nonexistent/gw.pem", keyFile: "/nonexistent/gw.key" },
    });
    cleanup.push(() => gateway.close());
    expect(await connects(gateway.udpAddresses[0] as string, "plain-1")).toBe(ReturnCode.Accepted);
  });

  it.each(["mqtts", "tls"])("a missing one stops a gateway with a %s:// broker, naming its key", async (scheme) => {
    const err = await startGateway({
      udp: ["127.0.0.1:0"],
      broker: `${scheme}://127.0.0.1:8883`,
      upstream: { caFile: "/nonexistent/ca.pem" },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe("upstream.caFile");
    expect((err as Error).message).toContain("/nonexistent/ca.pem");
    expect((err as Error).message).toContain("ENOENT");
  });

  it("the command names the key and the file's full path when a relative one is missing", async () => {
    const dir = tempDir("gwcfg-");
    const file = writeConfig(dir, { broker: "mqtts://127.0.0.1:8883", upstream: { certFile: "gw.pem" } });
    const g = runGateway(file, tempDir("gwcwd-"));
    expect(await g.exited).toBe(1);
    expect(g.stderr()).toContain("upstream.certFile");
    expect(g.stderr()).toContain(join(dir, "gw.pem"));
    expect(g.stdout()).toBe("");
  });
});

/** A throw-away CA and a certificate for 127.0.0.1, in `dir/tls`, readable by the mosquitto user. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const tls = join(dir, "tls");
  mkdirSync(tls);
  chmodSync(dir, 0o755);
  chmodSync(tls, 0o755);
  const c = makeTestCertificates(tls, "broker");
  return { ca: c.ca, cert: c.pem("broker"), key: c.key("broker") };
}

describe.runIf(systemHas(["mosquitto", "openssl"], "sudo apt-get install -y mosquitto openssl"))(
  "a config file with relative TLS paths, run from another folder",
  () => {
    it("reaches a TLS broker with the CA next to the config file", async () => {
      const dir = tempDir("gwcfg-");
      const tls = certificates(dir);
      const mosquitto = await startMosquitto([`cafile ${tls.ca}`, `certfile ${tls.cert}`, `keyfile ${tls.key}`]);
      cleanup.push(() => mosquitto.stop());
      const file = writeConfig(dir, {
        broker: `mqtts://127.0.0.1:${mosquitto.port}`,
        upstream: { caFile: "tls/ca.pem" },
        sleep: { store: { path: "state/sessions" } },
      });
      const cwd = tempDir("gwcwd-");
      const g = runGateway(file, cwd);
      await g.ready();
      expect(await connects(g.udp(), "tls-relative-1")).toBe(ReturnCode.Accepted);
      expect(g.foreignLines()).toEqual([]);
      expect(existsSync(join(cwd, "tls"))).toBe(false);
    });
  },
);

describe("the README's config example", () => {
  it("works when copied as it is (ports from the command line, so that tests can run side by side)", async () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("### Configuration"));
    const example = /```json\n([\s\S]*?)```/.exec(section)?.[1] as string;
    expect(example).toContain('"upstream"');
    const dir = tempDir("gwreadme-");
    const cwd = tempDir("gwcwd-");
    const g = runGateway(writeConfig(dir, example), cwd);
    await g.ready();
    expect(await connects(g.udp(), "node-7")).toBe(ReturnCode.Accepted);
    expect(g.records().filter((r) => r.level === "error")).toEqual([]);
    expect(g.foreignLines()).toEqual([]);
  });
});
