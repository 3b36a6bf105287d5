import { describe, expect, it } from "vitest";
import { COUNTER_METRICS } from "../../gateway/http/counter-metrics";
import { MsgType } from "../../protocol";
import { eventually, get, parseMetrics, sample } from "../support/http";
import { startMosquitto } from "../support/mosquitto";
import { payloadText } from "../support/sn-client";
import { systemHas } from "../support/system";
import { brokerPerBlock, brokers, gatewayPerTest, startHarness } from "./helpers";

const hasMosquitto = systemHas(["mosquitto"], "sudo apt-get install -y mosquitto");
const available = brokers.filter((b) => b.name !== "mosquitto" || hasMosquitto);

/** A client id that needs escaping everywhere it is shown. */
const TRICKY_ID = `dev<b>&"x'`;

describe.each(available)("HTTP listener with $name", (brokerUnderTest) => {
  const { start, client, closeGateway } = gatewayPerTest(brokerPerBlock(brokerUnderTest));

  it("serves /metrics, /healthz and / for a gateway with a device on UDP", async () => {
    const h = await start({ http: "127.0.0.1:0" });
    const http = h.gateway.httpAddress as string;
    expect(http).toMatch(/^127\.0\.0\.1:\d+$/);
    const link = (h.gateway.links[0] as { name: string }).name;
    const series = (name: string, labels: string) => `${name}{${labels}}`;

    const before = parseMetrics((await get(http, "/metrics")).body);
    expect(sample(before, series("mqttsn_clients", 'state="active"'))).toBe(0);
    expect(sample(before, series("mqttsn_link_frames_received_total", `link="${link}",kind="udp"`))).toBe(0);

    const device = await client(h.address);
    expect(await device.connect(TRICKY_ID)).toBe(0);
    const suback = await device.subscribe("t/echo", 1);
    const topicId = (await device.register("t/echo")).topicId;
    expect(suback.topicId).toBe(topicId);
    device.publish(topicId, "hello", { qos: 1 });
    expect((await device.expect(MsgType.PubAck)).returnCode).toBe(0);
    const down = await device.expect(MsgType.Publish);
    expect(payloadText(down)).toBe("hello");
    device.send({ type: MsgType.PubAck, topicId: down.topicId, msgId: down.msgId, returnCode: 0 });
    const anonymous = await client(h.address);
    anonymous.publish("ab".charCodeAt(0) * 256 + "b".charCodeAt(0), "anon", { qos: -1, topicIdType: 2 });
    await h.watcher.waitFor((m) => m.topic === "ab" && m.payload === "anon");

    // CONNECT, SUBSCRIBE, REGISTER, PUBLISH, PUBACK from the device and the QoS -1 PUBLISH in;
    // CONNACK, SUBACK, REGACK, PUBACK and the echoed PUBLISH out.
    const metrics = await eventually(
      "the device's PUBACK counted",
      async () => parseMetrics((await get(http, "/metrics")).body),
      (m) => m.get(series("mqttsn_link_frames_received_total", `link="${link}",kind="udp"`)) === 6,
    );
    expect(sample(metrics, series("mqttsn_link_frames_sent_total", `link="${link}",kind="udp"`))).toBe(5);
    expect(sample(metrics, series("mqttsn_link_up", `link="${link}",kind="udp"`))).toBe(1);
    expect(sample(metrics, series("mqttsn_clients", 'state="active"'))).toBe(1);
    expect(sample(metrics, series("mqttsn_messages_total", 'direction="up",qos="1"'))).toBe(1);
    expect(sample(metrics, series("mqttsn_messages_total", 'direction="up",qos="-1"'))).toBe(1);
    expect(sample(metrics, series("mqttsn_messages_total", 'direction="up",qos="0"'))).toBe(0);
    expect(sample(metrics, series("mqttsn_messages_total", 'direction="down",qos="1"'))).toBe(1);
    expect(sample(metrics, series("mqttsn_upstream_connections", 'state="open"'))).toBe(1);
    expect(sample(metrics, series("mqttsn_broker_status", 'status="reachable"'))).toBe(1);
    expect(sample(metrics, series("mqttsn_limit", 'limit="maxClients"'))).toBe(1000);
    expect(sample(metrics, series("mqttsn_buffered_messages", 'state="active"'))).toBe(0);
    expect(metrics.get("process_resident_memory_bytes")).toBeGreaterThan(0);
    const text = (await get(http, "/metrics")).body;
    for (const m of Object.values(COUNTER_METRICS)) expect(text).toContain(`# TYPE ${m.name} counter`);

    const health = await get(http, "/healthz");
    expect(health.status).toBe(200);
    expect(health.contentType).toBe("application/json");
    expect(JSON.parse(health.body)).toEqual({
      ok: true,
      listeners: { [link]: "up" },
      broker: { url: h.gateway.brokerUrl, status: "reachable" },
      problems: [],
    });

    const page = await get(http, "/");
    expect(page.status).toBe(200);
    expect(page.contentType).toBe("text/html; charset=utf-8");
    expect(page.body).toContain(`<td class="id">dev&#60;b&#62;&#38;&#34;x&#39;</td>`);
    expect(page.body).not.toContain("<b>");
    expect(page.body).toContain("<code>t/echo</code>");
    expect(page.body).toContain("Showing 1–1 of 1.");

    expect((await get(http, "/nothing-here")).status).toBe(404);
    expect((await get(http, "/metrics", "POST")).status).toBe(405);

    device.send({ type: MsgType.Disconnect, duration: undefined });
    await device.expect(MsgType.Disconnect);
    const after = parseMetrics((await get(http, "/metrics")).body);
    expect(sample(after, series("mqttsn_clients", 'state="active"'))).toBe(0);
  });

  it("closes the HTTP listener with the gateway", async () => {
    const h = await start({ http: "127.0.0.1:0" });
    const http = h.gateway.httpAddress as string;
    expect((await get(http, "/healthz")).status).toBe(200);
    await closeGateway();
    await expect(get(http, "/healthz")).rejects.toThrow();
  });
});

describe("HTTP listener without the gateway's port", () => {
  it("refuses to start on a taken port, naming the address and the flag", async () => {
    const first = await startHarness("embedded", { http: "127.0.0.1:0" });
    try {
      await expect(startHarness("embedded", { http: first.gateway.httpAddress })).rejects.toThrow(
        `cannot listen on HTTP ${first.gateway.httpAddress}: listen EADDRINUSE`,
      );
    } finally {
      await first.close();
    }
  });

  it("is off by default", async () => {
    const h = await startHarness("embedded");
    try {
      expect(h.gateway.httpAddress).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});

describe.runIf(hasMosquitto)("/healthz when the broker goes away", () => {
  it("turns 503 naming the broker once Mosquitto stops, and 200 again once it is back", async () => {
    const mosquitto = await startMosquitto();
    const h = await startHarness(mosquitto.url, { http: "127.0.0.1:0" });
    const http = h.gateway.httpAddress as string;
    try {
      await eventually(
        "healthy",
        () => get(http, "/healthz"),
        (a) => a.status === 200,
      );
      await h.watcher.close();
      await mosquitto.stop();
      const down = await eventually(
        "503",
        () => get(http, "/healthz"),
        (a) => a.status === 503,
      );
      const body = JSON.parse(down.body) as { ok: boolean; problems: string[]; broker: { status: string } };
      expect(body.ok).toBe(false);
      expect(body.broker.status).toBe("unreachable");
      expect(body.problems).toEqual(["broker unreachable"]);
      const metrics = parseMetrics((await get(http, "/metrics")).body);
      expect(sample(metrics, 'mqttsn_broker_status{status="unreachable"}')).toBe(1);
      const page = await get(http, "/");
      expect(page.body).toContain("unhealthy: broker unreachable");

      // A broker listens on that port again (a second listener of a new Mosquitto): the gateway retries every 5 s.
      const again = await startMosquitto([`listener ${mosquitto.port} 127.0.0.1`]);
      try {
        await eventually(
          "healthy again",
          () => get(http, "/healthz"),
          (a) => a.status === 200,
          20_000,
        );
      } finally {
        await h.gateway.close();
        await again.stop();
      }
    } finally {
      await h.gateway.close();
    }
  }, 40_000);
});
