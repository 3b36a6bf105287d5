/**
 * The commands of README.md and of the hardware guides, read out of the Markdown (fenced `sh` blocks and the
 * inline commands the prose tells a reader to run) and run as far as this machine allows, so that a document
 * that drifts from the code fails here.
 *
 * The README and the guides use fixed ports (UDP 1884, the broker on 127.0.0.1:1883, HTTP 127.0.0.1:9184), which
 * other tests running beside this one would collide with: each command that opens a port runs inside a network
 * namespace of its own (`ip netns exec`), loopback only, with no way out. A documented host name that stands for
 * another machine (`mqttsn.local`, `broker.example`) resolves to 127.0.0.1 inside it through the namespace's own
 * /etc/hosts, and a documented LAN address (`192.168.1.10`) is put on its loopback, so those commands run as
 * written. The MQTT-SN device that checks a gateway is the tests' own (test/support/netns-device.ts, inside the
 * namespace too). What else is replaced, and why, is said where it is done:
 * - `npm ci` is not run in a checkout other tests are using (it deletes node_modules, and the namespace has no
 *   network): the test checks that node_modules is what `npm ci` would install and runs `npm run build`, the
 *   `prepare` step through which `npm ci` builds dist/;
 * - files a command writes outside the project (/tmp/…, /etc/mqttsn, /var/lib/mqttsn) go to a temporary folder;
 *   /opt/mqttsn is this checkout; a device (/dev/serial0, /dev/ttyUSB0, /dev/mqttsn-radio) is a pseudo-terminal;
 * - `mqttsn-gateway` (the installed package's command) is `node bin/mqttsn-gateway.js` (test/e2e/package.test.ts
 *   installs the package and runs its command).
 *
 * The last suite accounts for every command of the documents: run here, run by another test, or not run here
 * with the reason (hardware, apt on a Pi, systemctl, a board).
 */
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  blockCommands,
  blockWith,
  commandMatching,
  docCommands,
  quotedAfter,
  substitute,
  type DocCommand,
} from "../support/doc-commands";
import { installDifferences } from "../support/installed-packages";
import { canMakeNamespaces, NetNamespace, signalGroup, type NsProcess } from "../support/netns";
import { NamespaceDevice } from "../support/netns-device-driver";
import { systemHas } from "../support/system";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const README = "README.md";
const PI = "hardware/raspberry-pi.md";
const NODEMCU = "hardware/esp-nodemcu.md";
const ESPRUINO = "hardware/espruino.md";
const RADIO = "hardware/serial-radio.md";
const DOCS = [README, PI, NODEMCU, ESPRUINO, RADIO];

const canNamespace = canMakeNamespaces();
const canMosquitto =
  canNamespace && systemHas(["mosquitto", "mosquitto_sub"], "sudo apt-get install -y mosquitto mosquitto-clients");
const canLua = canMosquitto && systemHas(["lua5.1"], "sudo apt-get install -y lua5.1 lua-socket");
const canPty = systemHas(["socat", "stty", "od", "timeout"], "sudo apt-get install -y socat coreutils");
const canCurl = canMosquitto && systemHas(["curl"], "sudo apt-get install -y curl");

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function namespace(options: Parameters<typeof NetNamespace.create>[0] = {}): NetNamespace {
  const ns = NetNamespace.create(options);
  cleanup.push(() => ns.close());
  return ns;
}

function device(ns: NetNamespace): NamespaceDevice {
  const d = NamespaceDevice.start(ns);
  cleanup.push(() => d.close());
  return d;
}

/** The commands of the one `sh` block of `file` under a heading starting with `section` that matches `pattern`. */
function block(file: string, section: string, pattern: RegExp): DocCommand[] {
  return blockCommands(blockWith(file, pattern, section));
}

/** The one inline command of `file` matching `pattern`, under a heading starting with `section`. */
function inline(file: string, section: string, pattern: RegExp): string {
  const among = docCommands(file).filter((c) => c.where === "inline" && c.section.startsWith(section));
  return commandMatching(file, pattern, among).text;
}

/** A command that ends in `&` (a job in the background), without the `&` and its comment; the rest unchanged. */
function inBackground(command: string): string {
  const m = /^(.*?)\s*&\s*(?:#.*)?$/.exec(command);
  if (m === null) throw new Error(`not a background job: ${command}`);
  return m[1] as string;
}

/**
 * `npm ci` of a document: not run in this shared checkout; node_modules must be what it installs, and its
 * `prepare` script, through which it builds dist/gateway/main.js, runs.
 */
function npmCi(command: string): void {
  expect(command).toBe("npm ci");
  expect(installDifferences(REPO), "node_modules differs from package-lock.json: run npm ci").toEqual([]);
  const prepare = spawnSync("npm", ["run", "prepare"], { cwd: REPO, encoding: "utf8" });
  expect(prepare.status, prepare.stderr).toBe(0);
  expect(existsSync(join(REPO, "dist", "gateway", "main.js"))).toBe(true);
}

/** Runs a command that opens no port, outside any namespace, from the checkout. */
function outside(command: string): SpawnSyncReturns<string> {
  return spawnSync("bash", ["-c", command], { cwd: REPO, encoding: "utf8" });
}

/** Starts a command in the background inside the namespace (its own process group) and waits for its pattern. */
async function started(ns: NetNamespace, command: string, ready: RegExp): Promise<NsProcess> {
  const p = ns.shell(`exec ${command}`, { cwd: REPO, group: true });
  cleanup.push(() => {
    try {
      signalGroup(p, "SIGKILL");
    } catch {
      // ended already
    }
    return p.exited;
  });
  await p.waitFor(ready);
  return p;
}

async function stopped(p: NsProcess, signal: NodeJS.Signals): Promise<number | string> {
  try {
    process.kill(p.pid, signal);
  } catch {
    // ended already
  }
  return p.exited;
}

const READY = /^mqttsn-gateway ready: .*$/m;

/** How long a message acknowledged to a device may take to be printed by mosquitto_sub on a loaded machine. */
const POLL = { timeout: 10_000 };

/**
 * A documented `mosquitto_sub` is subscribed once a message published after its start reaches it: the device
 * publishes probes on `topic` until one is printed.
 */
async function subscribed(sub: NsProcess, d: NamespaceDevice, gateway: string, topic: string): Promise<void> {
  for (let i = 1; i <= 40; i++) {
    const payload = `probe-${i}`;
    expect(await d.publish({ gateway, clientId: "docs-probe", topic, payload })).toMatchObject({ ok: true });
    const deadline = Date.now() + 250;
    while (Date.now() < deadline) {
      if (sub.stdout().includes(`${topic} ${payload}\n`)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`mosquitto_sub printed none of the probes on ${topic}:\n${sub.stdout()}\n${sub.stderr()}`);
}

/** The lines `mosquitto_sub -v` printed for a topic. */
function printed(sub: NsProcess, topic: string): string[] {
  return sub
    .stdout()
    .split("\n")
    .filter((l) => l.startsWith(`${topic} `));
}

/** What the publish examples print at the broker: `TOPIC msg-1` … `TOPIC msg-COUNT` (--topic and --count). */
function examplePublishes(command: string): string[] {
  const topic = /--topic (\S+)/.exec(command)?.[1] as string;
  const count = Number(/--count (\d+)/.exec(command)?.[1]);
  expect(topic, command).toBeDefined();
  return Array.from({ length: count }, (_, i) => `${topic} msg-${i + 1}`);
}

/** Mosquitto inside the namespace on 127.0.0.1:port, anonymous clients allowed. */
async function mosquitto(ns: NetNamespace, port: number): Promise<NsProcess> {
  const dir = tempDir("docs-mosquitto-");
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", ""].join("\n"));
  const broker = ns.spawn("mosquitto", ["-c", conf], { cwd: dir });
  cleanup.push(() => stopped(broker, "SIGKILL"));
  const deadline = Date.now() + 5000;
  while (ns.listening("tcp", port).length === 0) {
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${broker.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return broker;
}

/** A pair of connected pseudo-terminals (socat), as `a` and `b` in dir. */
async function ptyPair(dir: string): Promise<{ a: string; b: string }> {
  const a = join(dir, "a");
  const b = join(dir, "b");
  const socat = spawn("socat", [`PTY,link=${a},rawer`, `PTY,link=${b},rawer`], { stdio: "ignore" });
  cleanup.push(() => socat.kill("SIGKILL"));
  await waitForFiles([a, b]);
  return { a, b };
}

async function waitForFiles(files: string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (files.some((f) => spawnSync("test", ["-e", f]).status !== 0)) {
    if (Date.now() > deadline) throw new Error(`${files.join(", ")} did not appear`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.runIf(canMosquitto)("README quick start (`npm ci && npm start`), in a network namespace of its own", () => {
  let start = "";
  let readyLine = "";

  beforeAll(() => {
    const commands = block(README, "Quick start", /npm start/);
    expect(commands).toHaveLength(1);
    const [install, run] = (commands[0] as DocCommand).text.split(" && ") as [string, string];
    npmCi(install);
    // "`npm run build` builds it again after you change the sources"
    const build = outside(inline(README, "Quick start", /^npm run build$/));
    expect(build.status, build.stderr).toBe(0);
    start = run;
    readyLine = quotedAfter(README, "It prints one line when it is ready (");
  }, 60_000);

  it("`npm start`: the ready line as quoted, a device's PUBLISH reaches `mosquitto_sub` as the README runs it; Ctrl-C stops it with exit 0 and frees the ports", async () => {
    const watch = inline(README, "Quick start", /^mosquitto_sub /);
    const ns = namespace();
    const gateway = await started(ns, start, READY);
    expect(gateway.stdout().split("\n")).toContain(readyLine);
    const udp = Number(/ on udp [^;,]*:(\d+)/.exec(readyLine)?.[1]);
    const tcp = Number(/broker mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(readyLine)?.[1]);
    expect([udp, tcp]).toEqual([1884, 1883]);
    expect(ns.listening("udp", udp)).toHaveLength(1);
    expect(ns.listening("tcp", tcp)).toHaveLength(1);

    const sub = await started(ns, watch, /^/);
    const d = device(ns);
    await subscribed(sub, d, `127.0.0.1:${udp}`, "docs/quick-start");
    expect(
      await d.publish({ gateway: `127.0.0.1:${udp}`, clientId: "quick-1", topic: "docs/a/b", payload: "hi" }),
    ).toEqual({ ok: true, connack: 0, regack: 0, puback: 0 });
    await expect.poll(() => printed(sub, "docs/a/b"), POLL).toEqual(["docs/a/b hi"]);
    await d.close();
    await stopped(sub, "SIGTERM");

    signalGroup(gateway, "SIGINT");
    expect(await gateway.exited).toBe(0);
    expect(ns.listening("udp", udp)).toEqual([]);
    expect(ns.listening("tcp", tcp)).toEqual([]);
    expect(await ns.drained()).toEqual([]);
  });

  it("`npm start & … kill $!`: SIGTERM to npm alone stops the gateway with exit 0 and frees the ports", async () => {
    expect(inline(README, "Quick start", /^npm start & … kill \$!$/)).toBeDefined();
    const ns = namespace();
    const gateway = ns.shell(`exec ${start}`, { cwd: REPO });
    cleanup.push(() => stopped(gateway, "SIGKILL"));
    await gateway.waitFor(READY);
    expect(gateway.stdout().split("\n")).toContain(readyLine);
    process.kill(gateway.pid, "SIGTERM");
    expect(await gateway.exited).toBe(0);
    expect(ns.listening("udp", 1884)).toEqual([]);
    expect(ns.listening("tcp", 1883)).toEqual([]);
    expect(await ns.drained()).toEqual([]);
  });

  it("`npm run start:dev` runs the sources through tsx to the same ready line", async () => {
    const dev = inline(README, "Quick start", /^npm run start:dev$/);
    const ns = namespace();
    const gateway = await started(ns, dev, READY);
    expect(gateway.stdout().split("\n")).toContain(readyLine);
    // The README promises exit 0 on Ctrl-C for `npm start` only: npm reports a tsx child ended by SIGINT as its own.
    signalGroup(gateway, "SIGINT");
    await gateway.exited;
    expect(await ns.drained()).toEqual([]);
  });
});

describe.runIf(canMosquitto)("README gateway usage line", () => {
  /**
   * Replaced: `--config gateway.json` reads a copy, in a temporary folder, of the README's own config example
   * (under "Configuration"), copied as it is. `broker.example` resolves to 127.0.0.1 inside the namespace, where
   * a real Mosquitto listens on the URL's port.
   */
  it("two UDP listeners (IPv4 and IPv6), the broker of --broker, the README's config example; a device served over each", async () => {
    const [usage] = block(README, "Gateway usage", /--broker/) as [DocCommand];
    const config = readFileSync(README, "utf8").split("### Configuration")[1]?.split("```json\n")[1]?.split("```")[0];
    expect(config, "the config example under Configuration").toBeDefined();
    const dir = tempDir("docs-usage-");
    writeFileSync(join(dir, "gateway.json"), config as string);
    const broker = new URL(/--broker (\S+)/.exec(usage.text)?.[1] as string);
    const listeners = [...usage.text.matchAll(/--udp (\S+)/g)].map((m) => m[1] as string);
    expect(listeners).toEqual(["0.0.0.0:1884", "[::]:1884"]);

    const ns = namespace({ hosts: { [broker.hostname]: "127.0.0.1" } });
    await mosquitto(ns, Number(broker.port));
    const command = substitute(usage.text, [[" --config gateway.json", ` --config ${join(dir, "gateway.json")}`]]);
    const gateway = await started(ns, command, READY);
    const ready = READY.exec(gateway.stdout())?.[0] as string;
    expect(ready).toBe(
      `mqttsn-gateway ready: MQTT-SN on udp ${listeners.join(", udp ")}; broker ${broker.href.replace(/\/$/, "")}`,
    );
    expect(ns.listening("udp", 1884).map((l) => l.split(/\s+/)[3])).toEqual(expect.arrayContaining(listeners));

    const sub = await started(ns, inline(README, "Quick start", /^mosquitto_sub /), /^/);
    const d = device(ns);
    await subscribed(sub, d, "127.0.0.1:1884", "docs/usage-probe");
    for (const [gatewayAddress, clientId] of [
      ["127.0.0.1:1884", "usage-v4"],
      ["[::1]:1884", "usage-v6"],
    ] as const)
      expect(
        await d.publish({ gateway: gatewayAddress, clientId, topic: `docs/${clientId}`, payload: clientId }),
      ).toEqual({
        ok: true,
        connack: 0,
        regack: 0,
        puback: 0,
      });
    await expect
      .poll(() => [...printed(sub, "docs/usage-v4"), ...printed(sub, "docs/usage-v6")], POLL)
      .toEqual(["docs/usage-v4 usage-v4", "docs/usage-v6 usage-v6"]);
    await stopped(sub, "SIGTERM");
    expect(await stopped(gateway, "SIGTERM")).toBe(0);
  });
});

describe.runIf(canLua)("README device client: build both targets and publish through the gateway from Lua", () => {
  it("the block line by line (each background job ready before the next line), then the Node example", async () => {
    const commands = block(README, "The device client", /lua5\.1 /).map((c) => c.text);
    expect(commands).toHaveLength(5);
    const [install, build, gatewayJob, subJob, lua] = commands as [string, string, string, string, string];
    npmCi(install);
    const ns = namespace();
    const built = await ns.run(build, { cwd: REPO, timeoutMs: 60_000 });
    expect(built.code, built.stderr).toBe(0);

    const gateway = await started(ns, inBackground(gatewayJob), READY);
    const sub = await started(ns, inBackground(subJob), /^/);
    const d = device(ns);
    await subscribed(sub, d, "127.0.0.1:1884", "sensors/docs-probe");
    await d.close();

    const luaRun = await ns.run(lua, { cwd: REPO });
    expect(luaRun.code, `${luaRun.stdout}${luaRun.stderr}`).toBe(0);
    const luaLines = examplePublishes(lua);
    expect(luaLines[0]).toBe(quotedAfter(README, "`mosquitto_sub` prints "));
    await expect.poll(() => printed(sub, "sensors/lua"), POLL).toEqual(luaLines);

    const node = inline(README, "The device client", /^npx tsx device-client\/examples\/publish\.ts /);
    const nodeRun = await ns.run(node, { cwd: REPO });
    expect(nodeRun.code, `${nodeRun.stdout}${nodeRun.stderr}`).toBe(0);
    await expect.poll(() => printed(sub, "sensors/node"), POLL).toEqual(examplePublishes(node));

    await stopped(sub, "SIGTERM");
    expect(await stopped(gateway, "SIGTERM")).toBe(0);
  }, 90_000);
});

describe("hardware/raspberry-pi.md", () => {
  it("`node --version` (step 2) is at least the version package.json requires", () => {
    const version = commandMatching(PI, /^node --version/).text;
    const out = execFileSync("bash", ["-c", version], { encoding: "utf8" });
    const engines = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { engines: { node: string } })
      .engines;
    expect(Number(/^v(\d+)\./.exec(out)?.[1])).toBeGreaterThanOrEqual(Number(/>=(\d+)/.exec(engines.node)?.[1]));
  });

  it("`node bin/mqttsn-gateway.js --help` (step 3) prints the options its comment names", () => {
    const help = commandMatching(PI, /^node bin\/mqttsn-gateway\.js --help/).text;
    const named = [...(/#(.*)$/.exec(help)?.[1] ?? "").matchAll(/--[a-z-]+/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(0);
    const out = execFileSync("bash", ["-c", help], { cwd: REPO, encoding: "utf8" });
    for (const flag of named) expect(out).toContain(flag);
  });

  it.runIf(canPty)(
    "the loop-back check of step 4 prints what the guide says, on a pseudo-terminal looped back by socat",
    async () => {
      const check = inline(PI, "4. The serial port", /^stty -F \/dev\/serial0 /);
      const expected = quotedAfter(PI, `${check}\` prints `);
      const dir = tempDir("docs-loopback-");
      const serial0 = join(dir, "serial0");
      // The wire between pins 8 and 10: whatever is written to the terminal comes back from it.
      const loop = spawn("socat", [`PTY,link=${serial0},rawer`, "PIPE"], { stdio: "ignore" });
      cleanup.push(() => loop.kill("SIGKILL"));
      await waitForFiles([serial0]);
      const run = outside(substitute(check, [["/dev/serial0", serial0]]));
      expect(run.stdout).toBe(expected);
    },
  );

  describe.runIf(canMosquitto)("the gateway as the guide runs it, on its own ports in a namespace", () => {
    /** The guide's config (step 7) in a temporary /etc/mqttsn, its /var/lib/mqttsn a temporary folder. */
    function guideConfig(): string {
      const etc = tempDir("docs-etc-");
      const state = tempDir("docs-state-");
      const json = /```json\n([\s\S]*?)```/.exec(
        readFileSync(PI, "utf8").split("## 7. The configuration")[1] ?? "",
      )?.[1];
      expect(json, "the config of step 7").toBeDefined();
      writeFileSync(join(etc, "gateway.json"), substitute(json as string, [["/var/lib/mqttsn", state]]));
      return join(etc, "gateway.json");
    }

    it("by hand (step 7): the ready line names every link as the guide quotes it; Ctrl-C stops it with exit 0", async () => {
      const byHand = commandMatching(PI, /^sudo -u mqttsn node /).text;
      const config = guideConfig();
      // As root here: test/e2e/service.test.ts runs the same command line as an unprivileged user.
      const command = substitute(byHand, [
        ["sudo -u mqttsn ", ""],
        ["/opt/mqttsn/", `${REPO}/`],
        ["/etc/mqttsn/gateway.json", config],
      ]);
      const ns = namespace();
      const gateway = await started(ns, command, READY);
      expect(READY.exec(gateway.stdout())?.[0]).toBe(
        quotedAfter(PI, "It prints one ready line naming every link, e.g."),
      );
      signalGroup(gateway, "SIGINT");
      expect(await gateway.exited).toBe(0);
      expect(await ns.drained()).toEqual([]);
    });

    it.runIf(canLua && canCurl)(
      "the unit's ExecStart (step 8), `curl -s 127.0.0.1:9184/healthz`, and the end-to-end check of step 9 with mqttsn.local",
      async () => {
        const unit = readFileSync("hardware/mqttsn-gateway.service", "utf8");
        const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] as string;
        const config = guideConfig();
        const command = substitute(execStart, [
          ["/usr/bin/node ", `${process.execPath} `],
          ["/opt/mqttsn/", `${REPO}/`],
          ["/etc/mqttsn/gateway.json", config],
        ]);
        const ns = namespace({ hosts: { "mqttsn.local": "127.0.0.1" } });
        const gateway = await started(ns, command, READY);

        const curl = inline(PI, "8. The service", /^curl /);
        const health = await ns.run(curl, { cwd: REPO });
        expect(health.code).toBe(0);
        const body = JSON.parse(health.stdout) as { broker: { status: string }; problems: string[] };
        expect(body.broker.status).toBe("reachable");
        // No /dev/serial0 nor /dev/mqttsn-radio here: /healthz names them.
        expect(body.problems.join("\n")).toContain("/dev/serial0");

        const [watch] = block(PI, "9. Check end to end", /^mosquitto_sub /) as [DocCommand];
        const [lua] = block(PI, "9. Check end to end", /^lua5\.1 /) as [DocCommand];
        const sub = await started(ns, watch.text, /^/);
        const d = device(ns);
        await subscribed(sub, d, "127.0.0.1:1884", "test/pi-probe");
        await d.close();
        const luaRun = await ns.run(lua.text, { cwd: REPO });
        expect(luaRun.code, `${luaRun.stdout}${luaRun.stderr}`).toBe(0);
        const expected = examplePublishes(lua.text);
        expect(expected).toHaveLength(3);
        await expect.poll(() => printed(sub, "test/pi"), POLL).toEqual(expected);

        await stopped(sub, "SIGTERM");
        expect(await stopped(gateway, "SIGTERM")).toBe(0);
      },
    );

    it.runIf(canPty)(
      "`node bin/mqttsn-gateway.js --serial /dev/serial0 …` (step 7, without a file) serves the port",
      async () => {
        const line = inline(PI, "7. The configuration", /^node bin\/mqttsn-gateway\.js --serial /);
        const pty = await ptyPair(tempDir("docs-serial0-"));
        const ns = namespace();
        const gateway = await started(ns, substitute(line, [["/dev/serial0", pty.a]]), READY);
        expect(READY.exec(gateway.stdout())?.[0]).toContain(`serial:${pty.a}`);
        signalGroup(gateway, "SIGINT");
        expect(await gateway.exited).toBe(0);
      },
    );
  });
});

describe.runIf(canLua)("hardware/esp-nodemcu.md", () => {
  it("step 1 builds the Lua client; the desktop check's two lua5.1 lines publish to a gateway at 192.168.1.10, as both mosquitto_sub lines show", async () => {
    const [install, build, list] = block(NODEMCU, "1. Build the Lua client", /npm run build:lua/).map(
      (c) => c.text,
    ) as [string, string, string];
    npmCi(install);
    const built = outside(`${build} && ${list}`);
    expect(built.status, built.stderr).toBe(0);

    const checks = block(NODEMCU, "1. Build the Lua client", /^lua5\.1 /).map((c) => c.text);
    expect(checks).toHaveLength(2);
    const host = /--host (\S+)/.exec(checks[0] as string)?.[1] as string;
    // The gateway machine's LAN address is this namespace's own; "your gateway" is the README's `npm start`.
    const ns = namespace({ addresses: [host] });
    const gateway = await started(ns, "npm start", READY);
    const subs = [
      inline(NODEMCU, "1. Build the Lua client", /^mosquitto_sub /),
      inline(NODEMCU, "If it does not work", /^mosquitto_sub /),
    ];
    const d = device(ns);
    const watchers: NsProcess[] = [];
    for (const sub of subs) {
      const w = await started(ns, sub, /^/);
      await subscribed(w, d, `${host}:1884`, "sensors/docs-probe");
      watchers.push(w);
    }
    await d.close();

    for (const check of checks) {
      const run = await ns.run(check, { cwd: REPO });
      expect(run.code, `${check}\n${run.stdout}${run.stderr}`).toBe(0);
    }
    const expected = checks.flatMap(examplePublishes);
    expect(expected).toHaveLength(6);
    for (const w of watchers) await expect.poll(() => printed(w, "sensors/esp-check"), POLL).toEqual(expected);
    for (const w of watchers) await stopped(w, "SIGTERM");
    expect(await stopped(gateway, "SIGTERM")).toBe(0);
  });

  it("step 3 puts the library, the example and its script where the luac.cross line reads them (/tmp a temporary folder)", () => {
    const commands = block(NODEMCU, "3. The LFS image", /luac\.cross/).map((c) => c.text);
    const tmp = tempDir("docs-lfs-");
    const [mkdir, cp, luac] = commands.map((c) => c.replaceAll("/tmp/", `${tmp}/`)) as [string, string, string];
    const run = outside(`${mkdir} && ${cp}`);
    expect(run.status, run.stderr).toBe(0);
    // luac.cross is built with the board's firmware (step 2): not run here; what it reads is there.
    const inputs = luac.split(/\s+/).filter((a) => a.startsWith(`${tmp}/lfs/`));
    expect(inputs).toHaveLength(3);
    for (const input of inputs)
      expect(readFileSync(input, "utf8")).toBe(
        readFileSync(
          join(REPO, cp.split(/\s+/).find((a) => a.endsWith(`/${input.split("/").pop()}`)) as string),
          "utf8",
        ),
      );
  });
});

describe.runIf(canMosquitto)("hardware/espruino.md", () => {
  it("the UDP example: `npm ci && npm run build:espruino`, the config and app.js as step 2 makes them, run under an Espruino-shaped vm against a gateway at 192.168.1.10", async () => {
    const [install, build] = inline(ESPRUINO, "UDP over Wi-Fi", /^npm ci && npm run build:espruino$/).split(" && ") as [
      string,
      string,
    ];
    npmCi(install);
    const built = outside(build);
    expect(built.status, built.stderr).toBe(0);

    const [config, concat, upload] = block(ESPRUINO, "UDP over Wi-Fi", /publish\.min\.js/).map((c) => c.text) as [
      string,
      string,
      string,
    ];
    expect(upload).toMatch(/^espruino /);
    const tmp = tempDir("docs-espruino-");
    const made = outside(`${config}\n${concat}`.replaceAll("/tmp/", `${tmp}/`));
    expect(made.status, made.stderr).toBe(0);
    const app = join(tmp, "app.js");
    const host = /host: "([^"]+)"/.exec(readFileSync(app, "utf8"))?.[1] as string;

    const ns = namespace({ addresses: [host] });
    const gateway = await started(ns, "npm start", READY);
    const sub = await started(ns, inline(ESPRUINO, "UDP over Wi-Fi", /^mosquitto_sub /), /^/);
    const d = device(ns);
    await subscribed(sub, d, `${host}:1884`, "sensors/docs-probe");
    await d.close();

    // Espruino's interpreter is not here: app.js runs under Node's vm with Espruino's dgram shape.
    const run = await ns.run(`node --import tsx test/support/netns-espruino.ts ${app}`, { cwd: REPO });
    expect(run.code, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout.split("\n")).toContain("finished");
    const topic = /topic: "([^"]+)"/.exec(config)?.[1] as string;
    const count = Number(/count: (\d+)/.exec(config)?.[1]);
    // "shows five messages on `sensors/espruino`"
    expect(quotedAfter(ESPRUINO, "shows five messages on ")).toBe(topic);
    expect(count).toBe(5);
    await expect.poll(() => printed(sub, topic), POLL).toHaveLength(count);
    await stopped(sub, "SIGTERM");
    expect(await stopped(gateway, "SIGTERM")).toBe(0);
  });

  it("the BLE example's upload file is the config followed by ble-publish.js, and parses as JavaScript (/opt/mqttsn this checkout)", () => {
    const [config, concat] = block(ESPRUINO, "Bluetooth LE", /ble-publish\.js/).map((c) => c.text) as [string, string];
    const tmp = tempDir("docs-puck-");
    const script = `${config}\n${concat}`.replaceAll("/tmp/", `${tmp}/`).replaceAll("/opt/mqttsn/", `${REPO}/`);
    const made = outside(script);
    expect(made.status, made.stderr).toBe(0);
    const puck = readFileSync(join(tmp, "puck.js"), "utf8");
    expect(puck.endsWith(readFileSync(join(REPO, "hardware/espruino/ble-publish.js"), "utf8"))).toBe(true);
    expect(puck.startsWith("var MQTTSN_CONFIG = {")).toBe(true);
    expect(() => new Script(puck, { filename: "puck.js" })).not.toThrow();
  });
});

/** The octets between SLIP's END octets (c0), frame by frame. */
function slipFrames(octets: string[]): string[][] {
  const frames: string[][] = [];
  let frame: string[] = [];
  for (const octet of octets) {
    if (octet !== "c0") frame.push(octet);
    else if (frame.length > 0) {
      frames.push(frame);
      frame = [];
    }
  }
  return frames;
}

describe.runIf(canMosquitto && canPty)("hardware/serial-radio.md", () => {
  it("the radio check: the gateway's command line on one end of a pseudo-terminal pair, the guide's stty and printf/od lines on the other print the DISCONNECT octets it quotes", async () => {
    const line = inline(RADIO, "Framing over radio", /^mqttsn-gateway --serial /);
    const pty = await ptyPair(tempDir("docs-radio-"));
    const ns = namespace();
    // The installed package's command is the checkout's bin (test/e2e/package.test.ts runs the installed one).
    const command = substitute(line, [
      ["mqttsn-gateway ", "node bin/mqttsn-gateway.js "],
      ["/dev/mqttsn-radio", pty.a],
    ]);
    const gateway = await started(ns, command, READY);
    expect(READY.exec(gateway.stdout())?.[0]).toContain(`serial:${pty.a}`);

    const check = block(RADIO, "Checking the radio path", /od /).map((c) => c.text);
    expect(check).toHaveLength(2);
    // bash: the `\x` escapes of printf are bash's (dash's printf has only octal escapes).
    const run = outside(substitute(check.join("\n"), [["/dev/ttyUSB0", pty.b]]));
    const answer = quotedAfter(RADIO, "with DISCONNECT (").toLowerCase().split(" ");
    const frames = slipFrames(run.stdout.trim().split(/\s+/));
    expect(frames[frames.length - 1]).toEqual(answer.filter((o) => o !== "c0"));
    // Before it, only ADVERTISE (MQTT-SN §5.4.1, type 0x00), which the gateway sends on its links at start: the
    // pseudo-terminal kept the one sent before the check opened it.
    for (const frame of frames.slice(0, -1)) expect(frame[1], frame.join(" ")).toBe("00");
    expect(await stopped(gateway, "SIGTERM")).toBe(0);
  });
});

type How = "run here" | "run by another test" | "not run";

/**
 * Every command of the documents, and what becomes of it. `match` is the command as written (without a trailing
 * `# comment`), or a pattern for a family of commands; `why` says which test runs it, or why it cannot run here.
 */
const COVERAGE: ReadonlyArray<{ file: string; match: string | RegExp; how: How; why: string }> = [
  // README.md
  { file: README, match: "npm ci && npm start", how: "run here", why: "README quick start" },
  { file: README, match: /^npm ci$/, how: "run here", why: "checked against package-lock.json; its prepare step runs" },
  { file: README, match: "npm run build", how: "run here", why: "npm ci's prepare step" },
  { file: README, match: "npm start", how: "run here", why: "README quick start" },
  { file: README, match: "npm start & … kill $!", how: "run here", why: "README quick start (SIGTERM)" },
  { file: README, match: "npm run start:dev", how: "run here", why: "README quick start" },
  { file: README, match: "mosquitto_sub -h 127.0.0.1 -p 1883 -t '#' -v", how: "run here", why: "README quick start" },
  { file: README, match: /^npm start -- --udp /, how: "run here", why: "README gateway usage line" },
  { file: README, match: /^npm run build:(lua|espruino)/, how: "run here", why: "README device client" },
  { file: README, match: /^npm start &$/, how: "run here", why: "README device client" },
  { file: README, match: /^mosquitto_sub .*'sensors\/#' -v &$/, how: "run here", why: "README device client" },
  { file: README, match: /^lua5\.1 dist\/lua\/examples\/publish\.lua /, how: "run here", why: "README device client" },
  {
    file: README,
    match: /^npx tsx device-client\/examples\/publish\.ts /,
    how: "run here",
    why: "README device client",
  },
  {
    file: README,
    match: /^sudo apt-get /,
    how: "not run",
    why: "installs system packages (this machine has them); its `npm test` runs the whole suite, this test included",
  },
  { file: README, match: "npm test", how: "not run", why: "the whole suite, this test included" },
  {
    file: README,
    match: "npm run test:aggregating",
    how: "not run",
    why: "the end-to-end suites again in aggregating mode, this test included; npm test runs it",
  },
  {
    file: README,
    match: /^npm run (bench:\S+|fuzz)/,
    how: "not run",
    why: "benchmarks and the long fuzzer print figures and take minutes; npm test runs a fuzzer slice",
  },
  {
    file: README,
    match: "node dist/",
    how: "not run",
    why: "names a way of starting in the start-up figures; the bin and npm start run here",
  },
  { file: README, match: "kill -HUP <pid>", how: "run by another test", why: "test/e2e/sighup.test.ts" },
  {
    file: README,
    match: "systemctl reload mqttsn-gateway",
    how: "not run",
    why: "needs systemd managing the unit; the reload is SIGHUP (test/e2e/sighup.test.ts)",
  },
  // hardware/raspberry-pi.md
  {
    file: PI,
    match: /^(sudo apt-get |curl -fsSL https:\/\/deb\.nodesource|sudo bash \/tmp\/nodesource)/,
    how: "not run",
    why: "apt and NodeSource on a Pi: system packages, network, root",
  },
  { file: PI, match: /^node --version/, how: "run here", why: "raspberry-pi.md step 2" },
  {
    file: PI,
    match: /^sudo useradd /,
    how: "not run",
    why: "creates a system user; test/e2e/service.test.ts runs the service as the unprivileged nobody",
  },
  {
    file: PI,
    match: /^sudo git clone /,
    how: "not run",
    why: "a placeholder URL and the network; /opt/mqttsn is this checkout here",
  },
  { file: PI, match: "git pull", how: "not run", why: "updates a clone from its remote (network)" },
  {
    file: PI,
    match: /^(cd \/opt\/mqttsn && )?sudo npm ci --omit=dev$/,
    how: "not run",
    why: "installs from the registry (network) into /opt/mqttsn; here npm ci installed the same lock file, dev packages too",
  },
  {
    file: PI,
    match: /^npm ci( && npm run build:lua)?$/,
    how: "run here",
    why: "npm ci checked; build:lua in the README device client",
  },
  { file: PI, match: /^node bin\/mqttsn-gateway\.js --help/, how: "run here", why: "raspberry-pi.md step 3" },
  {
    file: PI,
    match: /^(sudo raspi-config |sudo reboot)/,
    how: "not run",
    why: "Raspberry Pi OS configuration and a reboot",
  },
  {
    file: PI,
    match:
      /^(ls -l \/dev\/|udevadm |sudo udevadm |sudo cp \/opt\/mqttsn\/hardware\/99-mqttsn\.rules |sudo nano \/etc\/udev)/,
    how: "not run",
    why: "the Pi's UART and USB serial adapters, with udev",
  },
  {
    file: PI,
    match: /^stty -F \/dev\/serial0 /,
    how: "run here",
    why: "raspberry-pi.md step 4, on a looped-back pseudo-terminal",
  },
  {
    file: PI,
    match: /^(sudo setcap |sudo rfkill |sudo systemctl disable --now bluetooth|sudo hciconfig |bluetoothctl )/,
    how: "not run",
    why: "a Bluetooth adapter; setcap would grant every program run with this node binary its capabilities",
  },
  {
    file: PI,
    match: /^sudo mkdir -p \/etc\/mqttsn && sudo nano /,
    how: "run here",
    why: "the file is the guide's config, written to a temporary folder",
  },
  {
    file: PI,
    match: /^sudo install -d -o mqttsn /,
    how: "run by another test",
    why: "test/e2e/service.test.ts makes the state directory, owned by the service user, as StateDirectory= does",
  },
  { file: PI, match: /^sudo -u mqttsn node /, how: "run here", why: "raspberry-pi.md step 7, as root" },
  { file: PI, match: /^node bin\/mqttsn-gateway\.js --serial /, how: "run here", why: "raspberry-pi.md step 7" },
  {
    file: PI,
    match: /^(sudo cp \/opt\/mqttsn\/hardware\/mqttsn-gateway\.service |sudo systemctl |systemctl |journalctl )/,
    how: "not run",
    why: "needs systemd as the init system; test/e2e/service.test.ts runs the unit's ExecStart, and this test on the unit's ports",
  },
  {
    file: PI,
    match: /^systemd-analyze verify /,
    how: "run by another test",
    why: "test/e2e/service.test.ts, on a copy of the unit pointed at this checkout",
  },
  { file: PI, match: "curl -s 127.0.0.1:9184/healthz", how: "run here", why: "raspberry-pi.md step 8" },
  { file: PI, match: "mosquitto_sub -h 127.0.0.1 -p 1883 -t '#' -v", how: "run here", why: "raspberry-pi.md step 9" },
  { file: PI, match: /^lua5\.1 .* --host mqttsn\.local /, how: "run here", why: "raspberry-pi.md step 9" },
  {
    file: PI,
    match: /^sudo usermod /,
    how: "not run",
    why: "changes a system user's groups",
  },
  {
    file: PI,
    match: "npm install @stoprocent/noble",
    how: "not run",
    why: "installs from the registry (network); npm ci installed the optional package here",
  },
  // hardware/esp-nodemcu.md
  { file: NODEMCU, match: /^(npm ci|npm run build:lua|ls dist\/lua\/)/, how: "run here", why: "esp-nodemcu.md step 1" },
  {
    file: NODEMCU,
    match: /^lua5\.1 dist\/lua\/examples\/publish\.lua /,
    how: "run here",
    why: "esp-nodemcu.md step 1",
  },
  { file: NODEMCU, match: /^mosquitto_sub /, how: "run here", why: "esp-nodemcu.md step 1 and troubleshooting" },
  { file: NODEMCU, match: /^(mkdir -p \/tmp\/lfs|cp dist\/lua\/)/, how: "run here", why: "esp-nodemcu.md step 3" },
  {
    file: NODEMCU,
    match: /^(\/path\/to\/nodemcu-firmware\/luac\.cross |git clone |idf\.py )/,
    how: "not run",
    why: "builds and uses the board's firmware tree (network, a cross toolchain)",
  },
  {
    file: NODEMCU,
    match: /^(esptool\.py |nodemcu-tool )/,
    how: "not run",
    why: "flashes and talks to an ESP board over USB",
  },
  {
    file: NODEMCU,
    match: /^(pip install esptool|npm install -g nodemcu-tool|sudo apt-get |sudo usermod )/,
    how: "not run",
    why: "installs tools and packages (network, root) or changes the user's groups",
  },
  { file: NODEMCU, match: "npm run bench:device-client", how: "not run", why: "a benchmark: figures, minutes" },
  // hardware/espruino.md
  {
    file: ESPRUINO,
    match: /^(npm ci && )?npm run build:espruino$/,
    how: "run here",
    why: "espruino.md, the UDP example",
  },
  {
    file: ESPRUINO,
    match: /^cat (> \/tmp\/config\.js <<'JS'|\/tmp\/config\.js )/,
    how: "run here",
    why: "espruino.md: the files the examples upload, in a temporary folder",
  },
  { file: ESPRUINO, match: /^mosquitto_sub /, how: "run here", why: "espruino.md, the UDP example" },
  {
    file: ESPRUINO,
    match: /^(npm install -g espruino|espruino )/,
    how: "not run",
    why: "the Espruino command-line tool (from the registry) talks to a board over USB or Bluetooth",
  },
  {
    file: ESPRUINO,
    match: /^sudo systemctl (stop|start) mqttsn-gateway$/,
    how: "not run",
    why: "needs systemd managing the unit",
  },
  // hardware/serial-radio.md
  { file: RADIO, match: /^mqttsn-gateway --serial /, how: "run here", why: "serial-radio.md, the radio check" },
  {
    file: RADIO,
    match: /^(stty -F \/dev\/ttyUSB0 |\(sleep 1; printf )/,
    how: "run here",
    why: "serial-radio.md, the radio check",
  },
];

/** The command without a trailing `# comment`. */
function withoutComment(command: string): string {
  return command.replace(/\s+#\s.*$/, "");
}

function covers(entry: (typeof COVERAGE)[number], command: DocCommand): boolean {
  if (entry.file !== command.file) return false;
  const text = withoutComment(command.text);
  return typeof entry.match === "string" ? text === entry.match : entry.match.test(text);
}

describe("every command of the documents is run here, run by another test, or listed as not run with the reason", () => {
  it("no command is left out, and no entry names a command the documents no longer have", () => {
    const commands = DOCS.flatMap(docCommands);
    expect(commands.length).toBeGreaterThan(100);
    const unaccounted = commands.filter((c) => !COVERAGE.some((e) => covers(e, c)));
    expect(unaccounted.map((c) => `${c.file}:${c.line} ${c.text}`)).toEqual([]);
    const stale = COVERAGE.filter((e) => !commands.some((c) => covers(e, c)));
    expect(stale.map((e) => `${e.file} ${String(e.match)}`)).toEqual([]);
  });
});
