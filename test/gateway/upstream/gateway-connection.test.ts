/**
 * The gateway's own broker connection as a reachability watch, with a short retry interval so that the
 * cadence of its warnings shows within a test: a closed port, a broker refusing the gateway's credentials,
 * a broker that comes and goes. Real sockets and real brokers (aedes in this process).
 */
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedBroker } from "../../../gateway/broker/embedded";
import { GatewayConnection } from "../../../gateway/upstream/gateway-connection";
import type { Log } from "../../../transports/link";
import { freePort } from "../../support/mosquitto";
import { embedded, until } from "./support";

type Entry = { level: string; event: string; fields: Record<string, unknown> };

function recorder(): { log: Log; entries: Entry[] } {
  const entries: Entry[] = [];
  const at =
    (level: string) =>
    (event: string, fields?: Record<string, unknown>): void => {
      entries.push({ level, event, fields: fields ?? {} });
    };
  return { log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, entries };
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function watching(url: string, log: Log, retryMs: number, extra: { username?: string; password?: string } = {}) {
  const connection = new GatewayConnection(
    {
      url,
      clientId: `watch-${process.pid}-${Math.random()}`,
      clean: true,
      keepAlive: 60,
      connectTimeoutMs: 2000,
      ...extra,
    },
    log,
    retryMs,
  );
  cleanup.push(() => connection.close());
  connection.watch();
  return connection;
}

const RETRY_MS = 20;

describe("GatewayConnection.watch", () => {
  it("warns at the first failure with the cadence, keeps retrying at debug level, and reminds every 12th attempt", async () => {
    const { log, entries } = recorder();
    const port = await freePort();
    const connection = watching(`mqtt://127.0.0.1:${port}`, log, RETRY_MS);
    await until("25 attempts", () => entries.filter((e) => e.event === "broker-unreachable").length >= 25, 10_000);
    expect(connection.status).toBe("unreachable");
    const attempts = entries.filter((e) => e.event === "broker-unreachable");
    expect(attempts.map((e) => e.fields.attempts)).toEqual(attempts.map((_, i) => i + 1));
    const warned = attempts.filter((e) => e.level === "warn").map((e) => e.fields.attempts);
    expect(warned.slice(0, 3)).toEqual([1, 12, 24]);
    expect(attempts.filter((e) => e.level !== "warn").every((e) => e.level === "debug")).toBe(true);
    expect(attempts[0]?.fields).toMatchObject({ broker: `mqtt://127.0.0.1:${port}`, retryMs: RETRY_MS });
    expect(String(attempts[0]?.fields.error)).toContain("ECONNREFUSED");
  });

  it("reports the broker reachable once it listens, and unreachable again when it goes", async () => {
    const { log, entries } = recorder();
    const port = await freePort();
    const connection = watching(`mqtt://127.0.0.1:${port}`, log, RETRY_MS);
    await until("the first failure", () => connection.status === "unreachable", 5000);
    const broker = await startEmbeddedBroker(port);
    let brokerOpen = true;
    cleanup.push(async () => {
      if (brokerOpen) await broker.close();
    });
    await until("reachable", () => connection.status === "reachable", 5000);
    const back = entries.find((e) => e.event === "broker-reachable");
    expect(back?.level).toBe("warn");
    expect(back?.fields.attempts).toBeGreaterThanOrEqual(1);

    const before = entries.length;
    await broker.close();
    brokerOpen = false;
    await until("unreachable again", () => connection.status === "unreachable", 5000);
    expect(entries.slice(before).find((e) => e.event === "broker-unreachable")).toMatchObject({
      level: "warn",
      fields: { attempts: 1 },
    });
  });

  it("a broker refusing the gateway's credentials is broker-refused, with the return code, and kept trying", async () => {
    const { log, entries } = recorder();
    const broker = await embedded.startWithPassword();
    cleanup.push(() => broker.stop());
    const connection = watching(broker.url, log, RETRY_MS, { username: "gw", password: "wrong" });
    await until("two refusals", () => entries.filter((e) => e.event === "broker-refused").length >= 2, 5000);
    expect(connection.status).toBe("refused");
    const [first, second] = entries.filter((e) => e.event === "broker-refused");
    expect(first).toMatchObject({ level: "warn", fields: { returnCode: 4, retryMs: RETRY_MS, attempts: 1 } });
    expect(second).toMatchObject({ level: "debug", fields: { attempts: 2 } });
    expect(entries.some((e) => e.event === "broker-unreachable")).toBe(false);
  });

  it("is unknown before the first attempt settles, and stops trying once closed", async () => {
    const { log, entries } = recorder();
    const port = await freePort();
    const connection = watching(`mqtt://127.0.0.1:${port}`, log, RETRY_MS);
    expect(connection.status).toBe("unknown");
    await until("the first failure", () => connection.status === "unreachable", 5000);
    await connection.close();
    const count = entries.length;
    await new Promise((r) => setTimeout(r, RETRY_MS * 10));
    expect(entries.length).toBe(count);
  });
});
