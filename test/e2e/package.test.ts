import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { freeUdpPort } from "../support/gateway-command";
import { freePort } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../..", import.meta.url));

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/** `npm pack --json` output: lifecycle scripts (prepare builds the bundle) print before the JSON array. */
function packJson(stdout: string): PackResult {
  const start = stdout.search(/^\[/m);
  const parsed = JSON.parse(stdout.slice(start)) as PackResult[];
  return parsed[0] as PackResult;
}

describe("the npm package", () => {
  let dir = "";
  afterAll(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it("packs the bundle and the bin only, installs into an empty prefix, and its mqttsn-gateway serves a device and its metrics", async () => {
    dir = await mkdtemp(join(tmpdir(), "mqttsn-package-"));
    const packed = await run("npm", ["pack", "--json", "--pack-destination", dir], {
      cwd: repo,
      maxBuffer: 16 * 1024 * 1024,
    });
    const pack = packJson(packed.stdout);
    const paths = pack.files.map((f) => f.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        "bin/mqttsn-gateway.js",
        "dist/gateway/main.js",
        "dist/gateway/THIRD-PARTY-NOTICES.txt",
        "package.json",
        "README.md",
        "LICENSE",
      ]),
    );
    expect(
      paths.filter((p) => p.endsWith(".ts") || /^(gateway|protocol|transports|test|bench|scripts)\//.test(p)),
    ).toEqual([]);

    const prefix = join(dir, "prefix");
    await run(
      "npm",
      [
        "install",
        "--global",
        "--prefix",
        prefix,
        join(dir, pack.filename),
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
      ],
      { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
    );
    const installed = join(prefix, "lib", "node_modules", "mqttsn");
    expect(existsSync(join(installed, "dist", "gateway", "main.js"))).toBe(true);
    // The licences of the packages the bundle holds travel with it.
    const notices = readFileSync(join(installed, "dist", "gateway", "THIRD-PARTY-NOTICES.txt"), "utf8");
    for (const name of ["aedes", "pino", "mqtt-packet"]) {
      const { version } = JSON.parse(readFileSync(join(repo, "node_modules", name, "package.json"), "utf8")) as {
        version: string;
      };
      expect(notices).toContain(`${name}@${version} (MIT)`);
    }
    // Installed: the native addons and what loads on demand, not the tools that test and check the sources.
    for (const name of ["classic-level", "serialport", "prom-client"])
      expect(existsSync(join(installed, "node_modules", name)), name).toBe(true);
    for (const name of ["tsx", "typescript", "vitest", "eslint"])
      expect(existsSync(join(installed, "node_modules", name)), name).toBe(false);

    // Started from an empty folder, away from this repository, through the link npm made in PREFIX/bin.
    const workdir = join(dir, "run");
    await mkdir(workdir);
    const udpPort = await freeUdpPort();
    const brokerPort = await freePort();
    const httpPort = await freePort();
    const gateway = spawn(
      join(prefix, "bin", "mqttsn-gateway"),
      ["--udp", `127.0.0.1:${udpPort}`, "--embedded-port", String(brokerPort), "--http", `127.0.0.1:${httpPort}`],
      { cwd: workdir, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    gateway.stdout.setEncoding("utf8").on("data", (t: string) => (stdout += t));
    gateway.stderr.setEncoding("utf8").on("data", (t: string) => (stderr += t));
    const exited = new Promise<number | null>((resolve) => gateway.once("close", resolve));
    try {
      await Promise.race([
        new Promise<void>((resolve) => gateway.stdout.on("data", () => stdout.includes(" ready: ") && resolve())),
        exited.then((code) => {
          throw new Error(`the installed mqttsn-gateway exited (${code}) before it was ready:\n${stderr}`);
        }),
      ]);
      expect(stdout).toContain(`ready: MQTT-SN on udp 127.0.0.1:${udpPort}; broker mqtt://127.0.0.1:${brokerPort}`);
      const device = await SnClient.open(`127.0.0.1:${udpPort}`);
      try {
        expect(await device.connect("packaged-1")).toBe(0); // CONNACK accepted: the broker took the session
        // The metrics come from prom-client, an installed package the bundle loads when the listener is on.
        const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
        expect(metrics).toMatch(/^mqttsn_clients\{state="active"\} 1$/m);
      } finally {
        await device.close();
      }
    } finally {
      gateway.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
  }, 240_000);
});
