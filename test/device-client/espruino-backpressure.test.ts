import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decode, MsgType } from "../../protocol/index";
import { runEspruino, type EspruinoRun } from "./support/espruino-vm";
import { ScriptedPeer } from "./support/peer";

/**
 * A 1,000-message QoS 0 burst from the Espruino library bundle under Node's vm, whose dgram stand-in
 * queues datagrams as Espruino does and sends one per turn of the event loop. The application publishes
 * in a loop until publish() returns Busy (-2) and goes on from handler.ready(). With the default bound the
 * send queue never holds more than 4 datagrams; with the bound lifted (as before backpressure) the whole
 * burst waits in it at once. Not covered: Espruino's interpreter itself (see espruino-vm.ts).
 */
const COUNT = 1000;
const TOPIC = "burst/espruino";
let dir = "";
let library = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "mqttsn-espruino-burst-"));
  execFileSync("node", ["scripts/build-device-espruino.mjs", "--out", dir], { stdio: "pipe" });
  library = readFileSync(join(dir, "mqttsn-client.min.js"), "utf8");
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The burst application, in the ES5 an Espruino board runs: register, then publish COUNT messages at QoS 0. */
const BURST = `
var C = MQTTSN_CONFIG;
var link;
var published = 0;
var busy = 0;
var payload = new Uint8Array(16);
function write(n) {
  var s = "msg-" + n;
  for (var i = 0; i < s.length; i++) payload[i] = s.charCodeAt(i);
  return s.length;
}
function burst() {
  while (published < C.count) {
    var r = link.client.publish(C.topic, payload, 0, write(published + 1), 0, false);
    if (r === -2) {
      busy++;
      return;
    }
    if (r !== 0) {
      console.log("refused " + r);
      console.log("failed");
      return;
    }
    published++;
  }
  console.log("published " + published + ", busy " + busy);
  link.client.disconnect();
}
var handler = {
  stateChanged: function (s) {
    if (s === 3) link.client.register(C.topic);
    if (s === 0) {
      link.close();
      console.log("finished");
    }
  },
  message: function () {},
  done: function (type, id, rc) {
    if (type === 0x0a && rc === 0) burst();
  },
  ready: function () {
    burst();
  },
};
var udp = {
  dgram: require("dgram"),
  host: C.host,
  port: C.port,
  broadcastHost: "255.255.255.255",
  bufferSize: 128,
  inflight: 2,
  tickInterval: 100,
};
if (C.maxQueued !== undefined) udp.maxQueued = C.maxQueued;
link = new MQTTSNClient.EspruinoUdpClient(handler, MQTTSNClient.defaultOptions(C.clientId, Math.random), udp);
link.start();
`;

interface Burst extends EspruinoRun {
  payloads: string[];
}

async function burst(maxQueued: number | undefined): Promise<Burst> {
  const file = join(dir, `burst-${maxQueued ?? "default"}.js`);
  writeFileSync(file, library + "\n" + BURST);
  const peer = new ScriptedPeer();
  const port = await peer.start();
  const run = await runEspruino(
    file,
    { host: "127.0.0.1", port, clientId: "burst-1", topic: TOPIC, count: COUNT, maxQueued },
    undefined,
    30_000,
  );
  await new Promise((r) => setTimeout(r, 50));
  peer.close();
  const payloads: string[] = [];
  for (const line of peer.transcript) {
    if (!line.startsWith("> ")) continue;
    const d = Buffer.from(line.slice(2), "hex");
    const m = decode(d as unknown as number[], 0, d.length);
    if (m.type === MsgType.Publish) {
      expect(m.qos).toBe(0);
      payloads.push(Buffer.from(m.data.slice(m.dataOffset, m.dataOffset + m.dataLength)).toString());
    }
  }
  return { ...run, payloads };
}

/** Espruino variables for a string of n characters, the cost model of bench/device-client.ts. */
function stringVariables(n: number): number {
  return 1 + Math.ceil(Math.max(0, n - 4) / 12);
}

describe("Espruino: backpressure in a 1,000-message QoS 0 burst", () => {
  it("keeps dgram's send queue within the bound and delivers every message in order", async () => {
    const bounded = await burst(undefined);
    expect(bounded.ok, bounded.lines.join("\n")).toBe(true);
    const summary = /^published (\d+), busy (\d+)$/.exec(bounded.lines[0] ?? "");
    expect(summary, bounded.lines.join("\n")).not.toBeNull();
    expect(Number(summary?.[1])).toBe(COUNT);
    // The loop met Busy and went on from ready(), many times over.
    expect(Number(summary?.[2])).toBeGreaterThan(COUNT / 4 - 10);
    // The bound, plus the DISCONNECT behind the last four: the client's own requests are never refused.
    expect(bounded.maxQueued).toBeLessThanOrEqual(4 + 1);
    expect(bounded.payloads).toEqual(Array.from({ length: COUNT }, (_, i) => `msg-${i + 1}`));

    // The same burst with the bound lifted: the queue takes the whole burst, as it did before.
    const unbounded = await burst(1_000_000);
    expect(unbounded.ok, unbounded.lines.join("\n")).toBe(true);
    expect(unbounded.lines[0]).toBe(`published ${COUNT}, busy 0`);
    expect(unbounded.maxQueued).toBeGreaterThanOrEqual(COUNT);
    expect(unbounded.payloads).toEqual(bounded.payloads);

    console.log(
      `send queue at its largest, ${COUNT} QoS 0 messages: ` +
        `bound 4: ${bounded.maxQueued} datagrams, ${bounded.maxQueuedOctets} octets, ` +
        `~${stringVariables(bounded.maxQueuedOctets)} Espruino variables (model); ` +
        `no bound: ${unbounded.maxQueued} datagrams, ${unbounded.maxQueuedOctets} octets, ` +
        `~${stringVariables(unbounded.maxQueuedOctets)} variables`,
    );
  }, 90_000);
});
