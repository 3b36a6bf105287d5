import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../support/test-gateway";
import { MsgType } from "../../protocol/index";
import { systemHas } from "../support/system";
import { runExample, type ExampleBuild } from "./support/example-command";
import { HoldingRelay } from "./support/holding-relay";

/**
 * The example programs across a gateway restart (real processes, real UDP, the real gateway and its
 * embedded broker). Each run subscribes to its own topic and publishes three messages, each after the
 * PUBACK and the echo of the one before. A relay in front of the gateway starts holding what the
 * client sends once the first message is complete, so the client's next PUBLISH is held; the gateway
 * is then closed and a new one (with a new broker, which knows no subscription) starts on the same
 * port, and the relay lets the held datagrams go. The new gateway does not know the client and
 * answers DISCONNECT; the client reconnects with CleanSession. The messages published after that come
 * back to the client only if it subscribed again at the new gateway.
 */
const hasLua = systemHas(["lua5.1"], "sudo apt-get install lua5.1 lua-socket");
const builds: ExampleBuild[] = hasLua ? ["node", "lua5.1", "nodemcu"] : ["node"];
let luaDir = "";

beforeAll(() => {
  luaDir = join(mkdtempSync(join(tmpdir(), "mqttsn-example-reconnect-")), "lua");
  execFileSync("node", ["scripts/build-device-lua.mjs", "--out", luaDir], { stdio: "pipe" });
}, 60_000);

afterAll(() => {
  if (luaDir) rmSync(join(luaDir, ".."), { recursive: true, force: true });
});

/**
 * True once the gateway has sent both the PUBACK of the first message and its echo (one-octet length,
 * then the MsgType): the client has all it waits for and publishes the next message at once.
 */
function firstMessageComplete(): (msg: Buffer) => boolean {
  const seen = new Set<number>();
  return (msg) => {
    if (msg[0] !== 0x01) seen.add(msg[1] as number);
    return seen.has(MsgType.PubAck) && seen.has(MsgType.Publish);
  };
}

describe("example clients across a gateway restart", () => {
  for (const build of builds) {
    it(`${build}: subscribes again after the reconnection, so the messages published afterwards come back`, async () => {
      const topic = `again/${build}`;
      const first = await startGateway({ udp: [{ host: "127.0.0.1", port: 0 }], embeddedPort: 0 });
      const port = Number((first.udpAddresses[0] as string).split(":").pop());
      const relay = new HoldingRelay("127.0.0.1", port, firstMessageComplete());
      const relayPort = await relay.start();
      let second: Awaited<ReturnType<typeof startGateway>> | undefined;
      let watcher: mqtt.MqttClient | undefined;
      const upstream: string[] = [];
      try {
        const run = runExample(build, luaDir, {
          host: "127.0.0.1",
          port: relayPort,
          clientId: `again-${build}`,
          topic,
          count: 3,
          qos: 1,
          subscribe: topic,
        });
        await relay.holding;
        await first.close();
        second = await startGateway({ udp: [{ host: "127.0.0.1", port }], embeddedPort: 0 });
        watcher = await mqtt.connectAsync(second.brokerUrl, { clientId: `watch-${build}` });
        watcher.on("message", (t, payload) => upstream.push(`${t} ${payload.toString()}`));
        await watcher.subscribeAsync(topic, { qos: 1 });
        expect(relay.release()).toBeGreaterThan(0);
        const r = await run;
        const detail = `${r.lines.join("\n")}\n${r.stderr}`;
        expect(r.code, detail).toBe(0);
        const lost = r.lines.indexOf("gateway lost");
        const again = r.lines.indexOf("connected again");
        expect(lost, detail).toBeGreaterThan(0);
        expect(again, detail).toBeGreaterThan(lost);
        const after = r.lines.slice(again);
        expect(after[1], detail).toBe(`subscribed ${topic}`);
        expect(
          after.filter((l) => l.startsWith("received ")),
          detail,
        ).toEqual([`received ${topic} msg-2`, `received ${topic} msg-3`]);
        expect(upstream).toEqual([`${topic} msg-2`, `${topic} msg-3`]);
      } finally {
        relay.close();
        if (watcher) await watcher.endAsync();
        if (second) await second.close();
        else await first.close();
      }
    }, 60_000);
  }
});
