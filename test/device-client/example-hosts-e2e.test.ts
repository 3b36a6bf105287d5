import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../support/test-gateway";
import { systemHas } from "../support/system";
import {
  exampleCommand,
  runExample,
  runExampleProcess,
  type ExampleBuild,
  type ExampleFlags,
} from "./support/example-command";

/**
 * The example programs as processes, addressed the way people type a gateway: a host name and an IPv6
 * address, over real UDP to the real gateway and its embedded broker. A reply counts only when it comes
 * from the gateway's address, so these runs pass only if the example resolved the name and matches
 * replies by the resolved address. Each run also subscribes to its own topic, so incoming PUBLISHes are
 * matched too. The help and the unresolvable-name runs need no gateway.
 */
const hasLua = systemHas(["lua5.1", "lua5.3"], "sudo apt-get install lua5.1 lua5.3 lua-socket");
const processBuilds: ExampleBuild[] = hasLua ? ["node", "lua5.1", "lua5.3", "nodemcu"] : ["node"];
let luaDir = "";

beforeAll(() => {
  luaDir = join(mkdtempSync(join(tmpdir(), "mqttsn-example-hosts-")), "lua");
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", luaDir], { stdio: "pipe" });
}, 60_000);

afterAll(() => {
  if (luaDir) rmSync(join(luaDir, ".."), { recursive: true, force: true });
});

/** One run against a fresh gateway listening on `listen`; the messages the broker got, in order. */
async function publishThrough(
  listen: string,
  build: ExampleBuild,
  f: Omit<ExampleFlags, "port">,
): Promise<{ code: number | null; lines: string[]; stderr: string; upstream: string[] }> {
  const gateway = await startGateway({ udp: [{ host: listen, port: 0 }], embeddedPort: 0 });
  const watcher = await mqtt.connectAsync(gateway.brokerUrl, { clientId: `watch-${f.clientId}` });
  const upstream: string[] = [];
  watcher.on("message", (topic, payload) => upstream.push(`${topic} ${payload.toString()}`));
  await watcher.subscribeAsync(f.topic, { qos: 1 });
  try {
    const port = Number((gateway.udpAddresses[0] as string).split(":").pop());
    const exit = await runExample(build, luaDir, { ...f, port });
    for (let i = 0; i < 50 && upstream.length < f.count; i++) await new Promise((r) => setTimeout(r, 20));
    return { ...exit, upstream };
  } finally {
    await watcher.endAsync();
    await gateway.close();
  }
}

function expectDelivered(r: Awaited<ReturnType<typeof publishThrough>>, topic: string, count: number): void {
  const numbers = Array.from({ length: count }, (_, i) => i + 1);
  const detail = `${r.lines.join("\n")}\n${r.stderr}`;
  expect(r.code, detail).toBe(0);
  expect(r.upstream, detail).toEqual(numbers.map((n) => `${topic} msg-${n}`));
  expect(
    r.lines.filter((l) => l.startsWith("received ")),
    detail,
  ).toEqual(numbers.map((n) => `received ${topic} msg-${n}`));
}

describe("example clients with a host name or an IPv6 address", () => {
  for (const build of processBuilds) {
    it(`${build}: --host localhost publishes through the gateway on 127.0.0.1 and exits 0`, async () => {
      const topic = `hosts/${build}`;
      const r = await publishThrough("127.0.0.1", build, {
        host: "localhost",
        clientId: `localhost-${build}`,
        topic,
        count: 2,
        qos: 1,
        subscribe: topic,
      });
      expectDelivered(r, topic, 2);
    }, 60_000);
  }

  it("node: --host ::1 publishes through the gateway on [::1] and exits 0", async () => {
    const r = await publishThrough("::1", "node", {
      host: "::1",
      clientId: "ipv6-node",
      topic: "hosts/ipv6",
      count: 2,
      qos: 2,
      subscribe: "hosts/ipv6",
    });
    expectDelivered(r, "hosts/ipv6", 2);
  }, 60_000);
});

describe("example clients: --help and a name that does not resolve", () => {
  const helpBuilds: ExampleBuild[] = hasLua ? ["node", "lua5.1", "lua5.3"] : ["node"];
  for (const build of helpBuilds) {
    it(`${build}: --help prints the usage on stdout and exits 0`, async () => {
      for (const args of [["--help"], ["--host", "localhost", "-h"]]) {
        const r = await runExampleProcess(exampleCommand(build, luaDir, args));
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe("");
        expect(r.lines[0]).toMatch(/^usage: publish(\.lua)? --host H --port P --client-id ID --topic T/);
        for (const flag of ["--host", "--port", "--client-id", "--topic", "--count", "--qos", "--subscribe"]) {
          expect(
            r.lines.some((l) => l.trimStart().startsWith(flag + " ")),
            flag,
          ).toBe(true);
        }
      }
    }, 30_000);

    it(`${build}: a host name that does not resolve is reported and exits 2`, async () => {
      // RFC 6761: names under .invalid never resolve.
      const r = await runExampleProcess(
        exampleCommand(build, luaDir, ["--host", "gateway.invalid", "--client-id", "x", "--topic", "t"]),
      );
      expect(r.code, r.lines.join("\n")).toBe(2);
      expect(r.stderr).toContain("gateway.invalid");
    }, 30_000);
  }

  if (hasLua) {
    it("nodemcu: a host name that does not resolve ends the run with ok=false", async () => {
      const r = await runExample("nodemcu", luaDir, {
        host: "gateway.invalid",
        port: 1884,
        clientId: "x",
        topic: "t",
        count: 1,
        qos: 1,
        subscribe: "",
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.lines).toEqual(["cannot resolve gateway.invalid"]);
    }, 30_000);
  }
});
