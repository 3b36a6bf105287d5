import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../support/test-gateway";
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
import { RecordingRelay } from "./support/recorder";

/**
 * The example of every build against the real gateway (UDP on 127.0.0.1) and the real broker behind
 * it (the embedded aedes on a free port), through a relay that records every datagram each way.
 * Each run gets a fresh gateway, so topic ids and message ids start alike. An MQTT subscriber on the
 * broker checks that the messages arrived upstream.
 *
 * Publishing without a subscription is strict request/answer, so the transcripts must be identical.
 * With an echo subscription the broker's timing decides whether an echo overtakes an acknowledgement;
 * those runs assert the same datagrams each way and the same delivery, not their interleaving.
 */
const hasLua = systemHas(["lua5.1", "lua5.3"], "sudo apt-get install lua5.1 lua5.3 lua-socket");
const everyBuild = allBuilds(hasLua);
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-device-e2e-"));
  buildDeviceClient(dir);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run extends ExampleRun {
  transcript: string[];
  upstream: string[];
}

async function run(build: Build, s: Scenario, filter: string): Promise<Run> {
  const gateway = await startGateway({ udp: [{ host: "127.0.0.1", port: 0 }], embeddedPort: 0 });
  const watcher = await mqtt.connectAsync(gateway.brokerUrl, { clientId: `watch-${s.clientId}` });
  const upstream: string[] = [];
  watcher.on("message", (topic, payload) => upstream.push(`${topic} ${payload.toString()}`));
  await watcher.subscribeAsync(filter, { qos: 1 });
  const gatewayPort = Number((gateway.udpAddresses[0] as string).split(":").pop());
  const relay = new RecordingRelay("127.0.0.1", gatewayPort);
  const port = await relay.start();
  try {
    const result = await runExample(build, dir, port, s);
    for (let i = 0; i < 50 && upstream.length < s.count; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    return { ...result, transcript: [...relay.transcript], upstream };
  } finally {
    relay.close();
    await watcher.endAsync();
    await gateway.close();
  }
}

function expectedUpstream(topic: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${topic} msg-${i + 1}`);
}

describe("device client against the real gateway and broker", () => {
  const strict: Scenario[] = [
    { clientId: "e2e-q0", topic: "dev/q0", count: 3, qos: 0, subscribe: "" },
    { clientId: "e2e-q1", topic: "dev/q1", count: 3, qos: 1, subscribe: "" },
    { clientId: "e2e-q2", topic: "dev/q2", count: 3, qos: 2, subscribe: "" },
  ];
  for (const s of strict) {
    it(`QoS ${s.qos}: identical transcripts on every build, messages at the broker`, async () => {
      const builds = buildsFor(everyBuild, s);
      const runs = new Map<Build, Run>();
      for (const b of builds) runs.set(b, await run(b, s, s.topic));
      const reference = runs.get("node") as Run;
      for (const b of builds) {
        const r = runs.get(b) as Run;
        expect(r.ok, `${b}: ${r.lines.join("\n")}`).toBe(true);
        expect(r.upstream, b).toEqual(expectedUpstream(s.topic, s.count));
        expect(r.lines, b).toEqual(reference.lines);
        expect(r.transcript, b).toEqual(reference.transcript);
      }
      // CONNECT first, DISCONNECT answered last.
      expect(reference.transcript[0]?.slice(0, 2) + (reference.transcript[0]?.slice(4, 6) ?? "")).toBe("> 04");
      expect(reference.transcript.slice(-2)).toEqual(["> 0218", "< 0218"]);
    }, 90_000);
  }

  it("QoS -1 on a short topic name reaches the broker from every build", async () => {
    const s: Scenario = { clientId: "e2e-qm1", topic: "ab", count: 2, qos: -1, subscribe: "" };
    const builds = buildsFor(everyBuild, s);
    for (const b of builds) {
      const r = await run(b, s, "ab");
      expect(r.ok, `${b}: ${r.lines.join("\n")}`).toBe(true);
      expect(r.upstream, b).toEqual(expectedUpstream("ab", 2));
    }
  }, 90_000);

  it("QoS 1 with an echo subscription: every build gets its messages back through the gateway", async () => {
    const s: Scenario = { clientId: "e2e-echo", topic: "echo/a", count: 3, qos: 1, subscribe: "echo/#" };
    const builds = buildsFor(everyBuild, s);
    const runs = new Map<Build, Run>();
    for (const b of builds) runs.set(b, await run(b, s, "echo/#"));
    const reference = runs.get("node") as Run;
    for (const b of builds) {
      const r = runs.get(b) as Run;
      expect(r.ok, `${b}: ${r.lines.join("\n")}`).toBe(true);
      expect(
        r.lines.filter((l) => l.startsWith("received ")),
        b,
      ).toEqual(Array.from({ length: s.count }, (_, i) => `received echo/a msg-${i + 1}`));
      expect(r.upstream, b).toEqual(expectedUpstream(s.topic, s.count));
      expect([...r.transcript].sort(), b).toEqual([...reference.transcript].sort());
    }
  }, 90_000);
});
