import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, MsgType, utf8Length } from "../../protocol/index";
import { espruinoViolations, describeViolations } from "../support/espruino-gate";
import { systemHas } from "../support/system";
import {
  allBuilds,
  buildDeviceClient,
  buildsFor,
  runExample,
  type Build,
  type ExampleRun,
  type Scenario,
} from "./support/builds";
import { runExampleProcess, type ExampleExit } from "./support/example-command";
import { ScriptedPeer } from "./support/peer";

/**
 * One scenario, five builds: the Node build (tsx), the Lua bundle on lua5.1 and lua5.3 (LuaSocket),
 * the NodeMCU bundle on lua5.1 with net and tmr stood in, the Espruino bundle under Node's vm. Each run talks to a fresh scripted gateway over real UDP on
 * 127.0.0.1, which records every datagram each way; the transcripts must be identical.
 */
const hasLua = systemHas(["lua5.1", "lua5.3"], "sudo apt-get install lua5.1 lua5.3 lua-socket");
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-device-"));
  buildDeviceClient(dir);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run extends ExampleRun {
  transcript: string[];
}

async function run(build: Build, s: Scenario): Promise<Run> {
  const peer = new ScriptedPeer();
  const port = await peer.start();
  const result = await runExample(build, dir, port, s);
  // Let the last datagram in flight land before the transcript is read.
  await new Promise((r) => setTimeout(r, 50));
  peer.close();
  return { ...result, transcript: peer.transcript };
}

const scenarios: Scenario[] = [
  { clientId: "scenario-q0", topic: "echo/zero", count: 3, qos: 0, subscribe: "echo/#" },
  { clientId: "scenario-q1", topic: "echo/one", count: 3, qos: 1, subscribe: "echo/#" },
  { clientId: "scenario-q2", topic: "echo/two", count: 3, qos: 2, subscribe: "echo/two" },
  { clientId: "scenario-qm1", topic: "ab", count: 2, qos: -1, subscribe: "" },
  // A QoS 0 burst without waiting for echoes: the Node and Espruino adapters report busy after four
  // datagrams not yet sent, and the example goes on from handler.ready() (backpressure).
  { clientId: "scenario-burst", topic: "burst/zero", count: 40, qos: 0, subscribe: "" },
  // Non-ASCII client id (19 octets, within the spec's 23) and topic (42 code units, 45 octets): the
  // wildcard subscription makes the gateway REGISTER the name to the client, which decodes it.
  {
    clientId: "capteur-é-€-😀",
    topic: "mesures/température/salle-à-manger/€/😀",
    count: 3,
    qos: 1,
    subscribe: "mesures/#",
  },
];

/**
 * Topics too long in UTF-8 for every build's buffers (256 octets in Node and Lua, 128 in NodeMCU and
 * Espruino), though short enough as JavaScript strings (UTF-16 code units) to pass a check that
 * counts those: the first on the 256-octet builds, the second on all. The example must refuse them
 * and fail, never send a REGISTER cut short.
 */
const tooLong: Scenario[] = [
  { clientId: "capteur-é", topic: "bars/" + "é".repeat(130), count: 1, qos: 1, subscribe: "" },
  { clientId: "capteur-€", topic: "bars/" + "€".repeat(84), count: 1, qos: 0, subscribe: "" },
];

const everyBuild = allBuilds(hasLua);

describe("device client scenario: identical wire transcripts on every build", () => {
  it("the Espruino bundles pass the syntax gate (the examples' one require is Espruino's dgram)", () => {
    // getTime() is Espruino's clock (https://www.espruino.com/Reference#l__global_getTime).
    for (const file of ["mqttsn-client.min.js", "mqttsn-sensor.min.js"]) {
      const library = readFileSync(join(dir, "espruino", file), "utf8");
      expect(describeViolations(espruinoViolations(library, ["getTime"])), file).toEqual([]);
    }
    for (const file of ["publish.min.js", "publish-full.min.js"]) {
      const source = readFileSync(join(dir, "espruino", file), "utf8");
      const example = describeViolations(espruinoViolations(source, ["getTime", "MQTTSN_CONFIG"]));
      // The one require is the banner's, on line 1, outside the bundle.
      expect(example, file).toHaveLength(1);
      expect(example[0], file).toMatch(/^1:\d+ global require$/);
    }
  });

  it("the sensor-profile example refuses a subscription with a clear message and sends nothing", async () => {
    const s: Scenario = { clientId: "scenario-sensor", topic: "echo/s", count: 1, qos: 1, subscribe: "echo/#" };
    const r = await run("espruino-sensor", s);
    expect(r.ok).toBe(false);
    expect(r.lines).toEqual([
      "publish.min.js is built on the sensor profile over UDP: QoS 2, subscribe and serial need publish-full.min.js",
    ]);
    expect(r.transcript).toEqual([]);
  });

  /**
   * The Lua examples on the sensor profile (publish.lua --profile sensor, nodemcu-publish.lua with
   * MQTTSN_CONFIG.profile "sensor") refuse a subscription and QoS 2 before sending anything.
   */
  describe.skipIf(!hasLua)("the Lua sensor-profile examples refuse what the profile lacks", () => {
    const refusals: Scenario[] = [
      { clientId: "lua-sensor-sub", topic: "echo/s", count: 1, qos: 1, subscribe: "echo/#" },
      { clientId: "lua-sensor-q2", topic: "echo/s", count: 1, qos: 2, subscribe: "" },
    ];

    async function refused(command: (port: number) => [string, string[]]): Promise<ExampleExit & { sent: string[] }> {
      const peer = new ScriptedPeer();
      const port = await peer.start();
      const exit = await runExampleProcess(command(port));
      // Anything sent would be in flight for a moment: wait before reading the transcript.
      await new Promise((r) => setTimeout(r, 100));
      peer.close();
      return { ...exit, sent: peer.transcript };
    }

    for (const s of refusals) {
      const what = s.subscribe ? "a subscription" : "QoS 2";
      it(`lua5.1 publish.lua --profile sensor: ${what} exits 2 with the reason, nothing sent`, async () => {
        const r = await refused((port) => [
          "lua5.1",
          [
            join(dir, "lua", "examples", "publish.lua"),
            ...["--port", String(port), "--client-id", s.clientId, "--topic", s.topic],
            ...["--qos", String(s.qos), "--profile", "sensor"],
            ...(s.subscribe ? ["--subscribe", s.subscribe] : []),
          ],
        ]);
        expect(r.code).toBe(2);
        expect(r.stderr.trim()).toBe(
          "mqttsn-sensor.lua is built on the sensor profile: QoS 2 and subscribe need mqttsn-client.lua (--profile full)",
        );
        expect(r.lines).toEqual([]);
        expect(r.sent).toEqual([]);
      });

      it(`NodeMCU with profile "sensor": ${what} ends the run with ok=false and the reason, nothing sent`, async () => {
        const r = await refused((port) => [
          "lua5.1",
          [
            "test/device-client/support/nodemcu-shim.lua",
            join(dir, "lua"),
            "nodemcu-publish.lua",
            ...["127.0.0.1", String(port), s.clientId, s.topic, String(s.count), String(s.qos), s.subscribe, "sensor"],
          ],
        ]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.lines).toEqual([
          "mqttsn-nodemcu-sensor.lua is built on the sensor profile: QoS 2 and subscribe need mqttsn-nodemcu.lua",
        ]);
        expect(r.sent).toEqual([]);
      });
    }
  });

  for (const s of scenarios) {
    it(`QoS ${s.qos}${s.subscribe ? " with echo" : ""}: ${s.count} messages (client id ${s.clientId})`, async () => {
      const builds = buildsFor(everyBuild, s);
      const runs = new Map<Build, Run>();
      for (const b of builds) runs.set(b, await run(b, s));
      const reference = runs.get("node") as Run;
      expect(reference.ok, reference.lines.join("\n")).toBe(true);
      const published = reference.lines.filter((l) => l.startsWith("published "));
      expect(published).toEqual(Array.from({ length: s.count }, (_, i) => `published ${i + 1}`));
      if (s.subscribe) {
        expect(reference.lines.filter((l) => l.startsWith("received "))).toEqual(
          Array.from({ length: s.count }, (_, i) => `received ${s.topic} msg-${i + 1}`),
        );
      }
      expect(reference.transcript[0]?.startsWith("> ")).toBe(true);
      expect(reference.transcript.filter((l) => l.startsWith("> ") && l.slice(4, 6) === "0c")).toHaveLength(s.count);
      for (const b of builds) {
        const r = runs.get(b) as Run;
        expect(r.ok, `${b}: ${r.lines.join("\n")}`).toBe(true);
        expect(r.lines, b).toEqual(reference.lines);
        expect(r.transcript, b).toEqual(reference.transcript);
      }
    }, 60_000);
  }

  for (const s of tooLong) {
    const octets = utf8Length(s.topic);
    it(`refuses a topic of ${s.topic.length} code units, ${octets} octets: a clear error, a failed run, no REGISTER`, async () => {
      const builds = buildsFor(everyBuild, s);
      expect(s.topic.length + 10).toBeLessThanOrEqual(256);
      const refusal = new RegExp(
        `^register refused: the topic name is ${octets} octets in UTF-8, too long for a REGISTER in the client's (\\d+)-octet buffers$`,
      );
      const runs = new Map<Build, Run>();
      for (const b of builds) runs.set(b, await run(b, s));
      const reference = runs.get("node") as Run;
      for (const b of builds) {
        const r = runs.get(b) as Run;
        expect(r.ok, `${b}: ${r.lines.join("\n")}`).toBe(false);
        expect(r.lines[0], b).toBe("connected");
        const match = refusal.exec(r.lines[1] ?? "");
        expect(match, `${b}: ${r.lines.join("\n")}`).not.toBeNull();
        // §5.4.10: the REGISTER would take the name, 6 octets and a 3-octet Length.
        expect(Number(match?.[1]), b).toBeLessThan(octets + 8);
        expect(r.lines.slice(2), b).toEqual([]);
        // What the client sent: its CONNECT, whole, and nothing of the topic.
        const sent = r.transcript.filter((l) => l.startsWith("> ")).map((l) => Buffer.from(l.slice(2), "hex"));
        expect(sent.length, b).toBeGreaterThan(0);
        for (const d of sent) {
          const m = decode(d as unknown as number[], 0, d.length);
          expect(m.type, `${b}: ${d.toString("hex")}`).not.toBe("error");
          expect([MsgType.Register, MsgType.Publish], b).not.toContain(m.type);
        }
        expect(decode(sent[0] as unknown as number[], 0, (sent[0] as Buffer).length)).toMatchObject({
          type: MsgType.Connect,
          clientId: s.clientId,
        });
        expect(r.transcript, b).toEqual(reference.transcript);
      }
    }, 60_000);
  }
});
