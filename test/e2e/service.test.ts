/**
 * The systemd unit (hardware/mqttsn-gateway.service) as installed by hardware/raspberry-pi.md.
 *
 * 1. `systemd-analyze verify` on a copy whose paths point at this checkout: /opt/mqttsn becomes the checkout
 *    and /usr/bin/node the node running the tests (verify checks that ExecStart's program exists). Nothing
 *    else is changed.
 * 2. The unit's ExecStart line, run as the unprivileged user `nobody` (standing for the unit's User=mqttsn;
 *    its groups: nogroup plus the unit's SupplementaryGroups) through setpriv, with the unit's capabilities
 *    (those this machine can grant), no new privileges, the unit's Environment= plus what systemd sets for a
 *    service (HOME, STATE_DIRECTORY …), from the checkout as working directory (which that user cannot
 *    write), with the guide's config, whose /var/lib/mqttsn stands for a fresh state directory owned by the
 *    user. What differs from systemd: no mount namespace (ProtectSystem, ProtectHome and PrivateTmp are not
 *    applied; the user's own rights keep it out of everything but its state directory and /tmp), and the
 *    ports (UDP 127.0.0.1:0, embedded broker 0, HTTP a free port), so that tests can run side by side.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { MsgType, ReturnCode } from "../../protocol";
import { freePort } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { spawnGateway, type SpawnedGateway } from "../support/spawned-gateway";
import { systemHas } from "../support/system";

const CHECKOUT = resolve(".");
const UNIT = readFileSync("hardware/mqttsn-gateway.service", "utf8");
const GUIDE = readFileSync("hardware/raspberry-pi.md", "utf8");
/** The unit's user stands in as nobody: the uid and gid of nobody and nogroup on Debian. */
const NOBODY = 65534;

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Every value of a [Service] setting, in order. */
function settings(name: string): string[] {
  return [...UNIT.matchAll(new RegExp(`^${name}=(.*)$`, "gm"))].map((m) => (m[1] as string).trim());
}

function setting(name: string): string {
  const values = settings(name);
  expect(values, `${name}= in the unit`).toHaveLength(1);
  return values[0] as string;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The capability numbers of the bounding set of this process (a container may lack some). */
function boundingSet(): bigint {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return BigInt(`0x${m?.[1] ?? "0"}`);
}

const CAPABILITY_NUMBERS: Record<string, number> = { CAP_NET_ADMIN: 12, CAP_NET_RAW: 13 };

/** The unit's AmbientCapabilities as setpriv names them, leaving out those this machine cannot grant. */
function capabilities(): string[] {
  const wanted = setting("AmbientCapabilities").split(/\s+/);
  for (const cap of wanted) expect(CAPABILITY_NUMBERS[cap], `${cap} known to this test`).toBeDefined();
  const bounding = boundingSet();
  return wanted
    .filter((cap) => (bounding >> BigInt(CAPABILITY_NUMBERS[cap] as number)) & 1n)
    .map((cap) => cap.slice(4).toLowerCase());
}

function groupId(name: string): number {
  const line = execFileSync("getent", ["group", name], { encoding: "utf8" });
  return Number(line.split(":")[2]);
}

/** setpriv's arguments for the unit's user, groups, capabilities and NoNewPrivileges. */
function asServiceUser(): string[] {
  const groups = setting("SupplementaryGroups").split(/\s+/).map(groupId);
  const caps = capabilities();
  const capArgs =
    caps.length === 0
      ? ["--inh-caps=-all", "--bounding-set=-all"]
      : [
          `--inh-caps=-all,${caps.map((c) => `+${c}`).join(",")}`,
          `--ambient-caps=-all,${caps.map((c) => `+${c}`).join(",")}`,
          `--bounding-set=-all,${caps.map((c) => `+${c}`).join(",")}`,
        ];
  expect(setting("NoNewPrivileges")).toBe("true");
  return [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, `--groups=${groups.join(",")}`, ...capArgs, "--no-new-privs", "--"];
}

/** Whether the service user may do `test FLAG PATH`. */
function userMay(flag: "-r" | "-w" | "-x", path: string): boolean {
  return (
    spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "test", flag, path]).status === 0
  );
}

/** The guide's config (step 7), the one JSON example of raspberry-pi.md. */
function guideConfig(): Record<string, unknown> {
  const examples = [...GUIDE.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  expect(examples).toHaveLength(1);
  return JSON.parse(examples[0] as string) as Record<string, unknown>;
}

const canRun = systemHas(["systemd-analyze", "setpriv", "getent"], "sudo apt-get install -y systemd util-linux");

describe.runIf(canRun)("the systemd unit", () => {
  it("passes systemd-analyze verify (paths pointed at this checkout), which does reject a unit with a missing program", () => {
    const dir = tempDir("gwunit-");
    const unit = UNIT.replaceAll("/opt/mqttsn", CHECKOUT).replace(
      /^ExecStart=\/usr\/bin\/node /m,
      `ExecStart=${process.execPath} `,
    );
    const copy = join(dir, "mqttsn-gateway.service");
    writeFileSync(copy, unit);
    const verify = (file: string) => spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" });
    const result = verify(copy);
    expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
    expect(result.status).toBe(0);

    const broken = join(dir, "broken", "mqttsn-gateway.service");
    mkdirSync(join(dir, "broken"));
    writeFileSync(broken, unit.replace(/^ExecStart=\S+/m, "ExecStart=/nonexistent/node"));
    const refused = verify(broken);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("/nonexistent/node");
  });

  it("keeps the store in its StateDirectory, the only place it writes, and the guide's config says so", () => {
    expect(setting("StateDirectory")).toBe("mqttsn");
    expect(setting("ProtectSystem")).toBe("strict");
    const store = (guideConfig().sleep as { store: { path: string } }).store.path;
    expect(store.startsWith("/var/lib/mqttsn/")).toBe(true);
    expect(setting("WorkingDirectory")).toBe("/opt/mqttsn");
  });

  it("runs its ExecStart line as an unprivileged user from a read-only working directory, and serves a device", async () => {
    const user = asServiceUser();
    expect(
      userMay("-x", CHECKOUT) && userMay("-r", join(CHECKOUT, "package.json")),
      `${CHECKOUT} readable by uid ${NOBODY}`,
    ).toBe(true);
    expect(userMay("-w", CHECKOUT), `${CHECKOUT} must not be writable by uid ${NOBODY}`).toBe(false);

    // /var/lib/mqttsn: made by systemd for StateDirectory=, owned by the user, StateDirectoryMode=.
    const state = tempDir("gwstate-");
    chownSync(state, NOBODY, NOBODY);
    chmodSync(state, Number.parseInt(setting("StateDirectoryMode"), 8));
    // /etc/mqttsn/gateway.json: the guide's config, its /var/lib/mqttsn pointed at the state directory.
    const etc = tempDir("gwetc-");
    chmodSync(etc, 0o755);
    const config = {
      ...(JSON.parse(JSON.stringify(guideConfig()).replaceAll("/var/lib/mqttsn", state)) as Record<string, unknown>),
      udp: ["127.0.0.1:0"],
      embeddedPort: 0,
    };
    const configFile = join(etc, "gateway.json");
    writeFileSync(configFile, JSON.stringify(config));
    chmodSync(configFile, 0o644);

    const httpPort = await freePort();
    const argv = setting("ExecStart")
      .split(/\s+/)
      .map((arg) =>
        arg === "/usr/bin/node"
          ? process.execPath
          : arg
              .replace(/^\/opt\/mqttsn\//, `${CHECKOUT}/`)
              .replace(/^\/etc\/mqttsn\/gateway\.json$/, configFile)
              .replace(/^127\.0\.0\.1:9184$/, `127.0.0.1:${httpPort}`),
      );
    expect(argv).toContain(configFile);
    const environment: Record<string, string> = Object.fromEntries(
      settings("Environment").flatMap((line) =>
        line.split(/\s+/).map((pair) => pair.split("=", 2) as [string, string]),
      ),
    );
    const env: Record<string, string> = {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: state,
      USER: "nobody",
      LOGNAME: "nobody",
      SHELL: "/usr/sbin/nologin",
      STATE_DIRECTORY: state,
      ...environment,
    };
    expect(environment.NODE_ENV).toBe("production");
    const cwd = setting("WorkingDirectory") === "/opt/mqttsn" ? CHECKOUT : setting("WorkingDirectory");
    const gateway: SpawnedGateway = spawnGateway("setpriv", [...user, ...argv], { cwd, env });
    cleanup.push(() => gateway.stop());
    const ready = await gateway.ready();
    expect(ready).toContain("serial:/dev/serial0");

    const device = await SnClient.open(gateway.udp());
    cleanup.push(() => device.close());
    expect(await device.connect("pi-service-1")).toBe(ReturnCode.Accepted);

    // --http from the unit: /healthz answers on 127.0.0.1 and sees the broker (the guide's serial ports are
    // absent here, so it answers 503 naming them).
    const healthz = async () => {
      const answer = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      return {
        status: answer.status,
        body: (await answer.json()) as { broker: { status: string }; problems: string[] },
      };
    };
    let health = await healthz();
    for (const until = Date.now() + 5000; health.body.broker.status !== "reachable" && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
      health = await healthz();
    }
    expect(health.body.broker.status).toBe("reachable");
    expect(health.status).toBe(health.body.problems.length === 0 ? 200 : 503);

    // A persistent client sleeps with a QoS 1 message for it: the store is written in the state directory.
    const sleeper = await SnClient.open(gateway.udp());
    cleanup.push(() => sleeper.close());
    expect(await sleeper.connect("pi-sleeper-1", { cleanSession: false })).toBe(ReturnCode.Accepted);
    expect((await sleeper.subscribe("pi/service", 1)).returnCode).toBe(ReturnCode.Accepted);
    sleeper.send({ type: MsgType.Disconnect, duration: 60 });
    await sleeper.expect(MsgType.Disconnect);
    const broker = /broker (mqtt:\/\/\S+)/.exec(ready)?.[1] as string;
    const publisher = await mqtt.connectAsync(broker, { reconnectPeriod: 0 });
    cleanup.push(() => publisher.endAsync());
    await publisher.publishAsync("pi/service", "kept", { qos: 1 });
    const store = join(state, "sessions");
    const deadline = Date.now() + 5000;
    while (!(existsSync(store) && readdirSync(store).includes("LOCK")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(readdirSync(store)).toContain("LOCK");
    expect(statSync(store).uid).toBe(NOBODY);

    // KillSignal=SIGTERM: a clean stop, exit 0.
    expect(setting("KillSignal")).toBe("SIGTERM");
    expect(await gateway.stop()).toBe(0);
    expect(gateway.records().filter((r) => r.level === "error")).toEqual([]);
    expect(gateway.foreignLines()).toEqual([]);
  });
});
