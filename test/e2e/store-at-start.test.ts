/**
 * The session store is opened only when first needed: a gateway with nothing to restore creates no store
 * directory at start, so a second gateway on the same store path starts quietly; the first sleeping
 * persistent client creates it.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { MsgType, ReturnCode } from "../../protocol";
import { SnClient } from "../support/sn-client";
import { GATEWAY_BIN, spawnGateway, type SpawnedGateway } from "../support/spawned-gateway";

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function gatewayWith(config: string, cwd: string): SpawnedGateway {
  const g = spawnGateway(
    process.execPath,
    [GATEWAY_BIN, "--config", config, "--udp", "127.0.0.1:0", "--embedded-port", "0"],
    { cwd, env: process.env },
  );
  cleanup.push(() => g.stop());
  return g;
}

describe("the session store at start", () => {
  it("is not created while nothing needs it; a second gateway on the same path starts without store-unavailable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gwstore-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, "gateway.json");
    writeFileSync(config, JSON.stringify({ sleep: { store: { path: "state/sessions" } } }));
    const store = join(dir, "state", "sessions");

    const first = gatewayWith(config, dir);
    const readyLine = await first.ready();
    const second = gatewayWith(config, dir);
    await second.ready();
    expect(existsSync(join(dir, "state"))).toBe(false);

    // A client that does not sleep needs no store either.
    const active = await SnClient.open(second.udp());
    cleanup.push(() => active.close());
    expect(await active.connect("awake-1", { cleanSession: false })).toBe(ReturnCode.Accepted);
    active.send({ type: MsgType.Disconnect, duration: undefined });
    await active.expect(MsgType.Disconnect);
    expect(existsSync(join(dir, "state"))).toBe(false);

    // A persistent client asleep with a QoS 1 message waiting: now the first gateway opens the store.
    const sleeper = await SnClient.open(first.udp());
    cleanup.push(() => sleeper.close());
    expect(await sleeper.connect("sleeper-1", { cleanSession: false })).toBe(ReturnCode.Accepted);
    const subscribed = await sleeper.subscribe("store/at-start", 1);
    expect(subscribed.returnCode).toBe(ReturnCode.Accepted);
    sleeper.send({ type: MsgType.Disconnect, duration: 60 });
    await sleeper.expect(MsgType.Disconnect);
    const broker = /broker (mqtt:\/\/\S+)/.exec(readyLine)?.[1] as string;
    const publisher = await mqtt.connectAsync(broker, { reconnectPeriod: 0 });
    cleanup.push(() => publisher.endAsync());
    await publisher.publishAsync("store/at-start", "kept", { qos: 1 });
    const deadline = Date.now() + 5000;
    while (!(existsSync(store) && readdirSync(store).includes("LOCK")) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(readdirSync(store)).toContain("LOCK");

    for (const g of [first, second]) {
      expect(g.records().filter((r) => r.event === "store-unavailable" || r.level === "error")).toEqual([]);
      expect(g.foreignLines()).toEqual([]);
    }
  });
});
