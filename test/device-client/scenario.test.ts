import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { espruinoViolations, describeViolations } from "../support/espruino-gate";
import { systemHas } from "../support/system";
import { buildDeviceClient, runExample, type Build, type ExampleRun, type Scenario } from "./support/builds";
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
];

describe("device client scenario: identical wire transcripts on every build", () => {
  it("the Espruino bundles pass the syntax gate (the example's one require is Espruino's dgram)", () => {
    // getTime() is Espruino's clock (https://www.espruino.com/Reference#l__global_getTime).
    const library = readFileSync(join(dir, "espruino", "mqttsn-client.min.js"), "utf8");
    expect(describeViolations(espruinoViolations(library, ["getTime"]))).toEqual([]);
    const source = readFileSync(join(dir, "espruino", "publish.min.js"), "utf8");
    const example = describeViolations(espruinoViolations(source, ["getTime", "MQTTSN_CONFIG"]));
    // The one require is the banner's, on line 1, outside the bundle.
    expect(example).toHaveLength(1);
    expect(example[0]).toMatch(/^1:\d+ global require$/);
  });

  for (const s of scenarios) {
    it(`QoS ${s.qos}${s.subscribe ? " with echo" : ""}: ${s.count} messages`, async () => {
      const builds: Build[] = hasLua ? ["node", "lua5.1", "lua5.3", "nodemcu", "espruino"] : ["node", "espruino"];
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
});
