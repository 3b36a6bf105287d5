import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ClientState } from "../../device-client/core/types";
import { freeUdpPort, startGatewayCommand, type StartedGateway } from "../support/gateway-command";
import { LossyLink, type Impairment } from "../support/lossy-link";
import { startMosquitto } from "../support/mosquitto";
import { PersistentMosquitto } from "../support/mosquitto-persistent";
import { systemHas } from "../support/system";
import { testMode } from "../support/upstream-mode";
import { FaultClient } from "./fault-client";
import { FaultDevice } from "./fault-device";
import { Tally } from "./tally";

/**
 * The gateway loses no acknowledged message under faults: SIGKILL of the real gateway command (asleep,
 * mid-delivery, just after an acknowledgement), a restart of a persistent Mosquitto, and a lossy,
 * duplicating, reordering link. Each scenario counts messages sent, delivered, lost (asserted to be 0)
 * and duplicated (reported: QoS 1 is "at least once"), one `fault-scenario` line each.
 */

const hasMosquitto = systemHas(["mosquitto"], "sudo apt-get install -y mosquitto");
const root = await mkdtemp(join(tmpdir(), "mqttsn-faults-"));
afterAll(() => rm(root, { recursive: true, force: true }));

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function report(figures: Record<string, unknown>): void {
  console.log("fault-scenario", JSON.stringify(figures));
}

/** Waits until condition holds; false (not a throw) after timeoutMs, so the figures can still be reported. */
async function settle(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  if (!(await settle(condition, timeoutMs))) throw new Error(`timed out waiting for ${what}`);
}

/** Waits until nothing has arrived for quietMs (late duplicates are counted too), at most timeoutMs. */
async function quiet(lastArrival: () => number, quietMs = 1000, timeoutMs = 10_000): Promise<void> {
  await settle(() => Date.now() - lastArrival() >= quietMs, timeoutMs);
}

const payloads = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);

function figures(
  sent: string[],
  received: Tally,
): { sent: number; delivered: number; lost: number; duplicated: number } {
  const delivered = sent.filter((p) => received.has(p)).length;
  return { sent: sent.length, delivered, lost: sent.length - delivered, duplicated: received.duplicates };
}

interface GatewaySetup {
  port: number;
  start(): Promise<StartedGateway>;
}

/** A gateway on a fixed UDP port with its own durable store, so a restart serves the same address and store. */
async function gatewaySetup(
  name: string,
  brokerUrl: string,
  timers: Record<string, number> = {},
): Promise<GatewaySetup> {
  const port = await freeUdpPort();
  const config = {
    timers: { advertiseIntervalS: 0, upstreamConnectTimeoutMs: 3000, ...timers },
    sleep: { store: { path: join(root, `${name}-store`) } },
  };
  const args = ["--udp", `127.0.0.1:${port}`, "--broker", brokerUrl, "--log-level", "info"];
  return {
    port,
    start: async () => {
      const gateway = await startGatewayCommand({ args, config });
      cleanup.push(() => gateway.stop());
      return gateway;
    },
  };
}

async function persistentBroker(): Promise<PersistentMosquitto> {
  const broker = await PersistentMosquitto.start();
  cleanup.push(() => broker.dispose());
  return broker;
}

async function mqttClient(url: string, clientId: string, clean = true): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId, clean, reconnectPeriod: 250 });
  cleanup.push(() => client.endAsync(true));
  return client;
}

async function device(port: number, clientId: string): Promise<FaultDevice> {
  const d = await FaultDevice.open(port, clientId);
  cleanup.push(() => d.close());
  return d;
}

/** Publishes every payload at QoS 1 and waits for the broker's PUBACK of each. */
async function publishAll(client: MqttClient, topic: string, list: string[]): Promise<void> {
  await Promise.all(list.map((p) => client.publishAsync(topic, p, { qos: 1 })));
}

/**
 * Who takes a device's messages at the broker: the device's own connection, or in aggregating mode the
 * gateway's shared one (gatewayId 1, one shared connection: the defaults).
 */
function atBroker(clientId: string): string {
  return testMode === "aggregating" ? "mqttsn-gateway-1-shared-0" : clientId;
}

/**
 * Waits until the broker has handed the sleeping client's messages to the gateway: it has the gateway's
 * PUBACK for all n (the gateway alone holds them now), or it has sent some and then nothing more moved
 * for a second (a gateway that leaves them unacknowledged until the device has them).
 */
async function handedOver(broker: PersistentMosquitto, clientId: string, n: number): Promise<void> {
  const taker = atBroker(clientId);
  await waitFor(
    `the broker handing ${n} messages to the gateway for ${clientId}`,
    () => broker.pubAcksFrom(taker) >= n || (broker.publishesTo(taker) > 0 && broker.quietFor(taker) >= 1000),
  );
}

/** Wakes (§6.14) until every payload arrived or the deadline passed; a wake that gets no PINGRESP is tried again. */
async function wakeUntilAll(d: FaultDevice, sent: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (d.received.missing(sent).length > 0 && Date.now() < deadline) {
    try {
      await d.wake(Math.max(1000, Math.min(10_000, deadline - Date.now())));
    } catch {
      // No PINGRESP within the time: wake again while the deadline allows.
    }
    await settle(() => d.received.missing(sent).length === 0, 300);
  }
}

describe.skipIf(!hasMosquitto)("faults with the real gateway command and Mosquitto", () => {
  it("1: SIGKILL while the device sleeps with QoS 1 messages held, restart, wake: all arrive", async () => {
    const broker = await persistentBroker();
    const gw = await gatewaySetup("s1", broker.url);
    const first = await gw.start();
    const d = await device(gw.port, "f1-sleeper");
    await d.connect(false);
    await d.subscribe("faults/1/#", 1);
    await d.sleep(600);

    const sent = payloads("s1", 40);
    const publisher = await mqttClient(broker.url, "f1-publisher");
    await publishAll(publisher, "faults/1/data", sent);
    await handedOver(broker, "f1-sleeper", sent.length);
    const ackedToBroker = broker.pubAcksFrom(atBroker("f1-sleeper"));
    await first.stop("SIGKILL");

    await gw.start();
    await wakeUntilAll(d, sent, 30_000);
    await quiet(() => d.lastArrival);
    const f = figures(sent, d.received);
    report({ scenario: "1-sigkill-asleep", ...f, ackedToBroker, missing: d.received.missing(sent).slice(0, 10) });
    expect(d.received.missing(sent)).toEqual([]);
    expect(f.lost).toBe(0);
  }, 90_000);

  it("2: SIGKILL while awake mid-delivery of 200 QoS 1 messages, restart, CONNECT again: all remaining arrive", async () => {
    const broker = await persistentBroker();
    const gw = await gatewaySetup("s2", broker.url);
    const first = await gw.start();
    const d = await device(gw.port, "f2-awake");
    await d.connect(false);
    await d.subscribe("faults/2/#", 1);
    // One PUBACK every 25 ms: the 200 messages (more than sleep.maxMessages, 100) queue at the gateway
    // and the broker while the device works through them.
    d.ackDelayMs = 25;

    const sent = payloads("s2", 200);
    const publisher = await mqttClient(broker.url, "f2-publisher");
    await publishAll(publisher, "faults/2/data", sent);
    // Killed after 40 acknowledgements; a gateway that stalls before them is killed at the deadline (reported).
    await settle(() => d.acked >= 40, 20_000);
    await first.stop("SIGKILL");
    const ackedBeforeKill = d.acked;
    d.forgetPending();

    await gw.start();
    await d.connect(false);
    await settle(() => d.received.missing(sent).length === 0, 45_000);
    await quiet(() => d.lastArrival);
    const f = figures(sent, d.received);
    report({
      scenario: "2-sigkill-awake-mid-delivery",
      ...f,
      ackedBeforeKill,
      missing: d.received.missing(sent).slice(0, 10),
    });
    expect(d.received.missing(sent)).toEqual([]);
    expect(f.lost).toBe(0);
  }, 120_000);

  it("3a: SIGKILL just after the awake device's PUBACK, restart, CONNECT again: nothing lost", async () => {
    const broker = await persistentBroker();
    const gw = await gatewaySetup("s3a", broker.url);
    const first = await gw.start();
    const d = await device(gw.port, "f3a-awake");
    await d.connect(false);
    await d.subscribe("faults/3a/#", 1);
    d.ackDelayMs = 20;
    let killedAfter = "";
    d.onAcked = (acked, payload) => {
      if (acked !== 10) return;
      killedAfter = payload;
      void first.stop("SIGKILL");
    };

    const sent = payloads("s3a", 30);
    const publisher = await mqttClient(broker.url, "f3a-publisher");
    await publishAll(publisher, "faults/3a/data", sent);
    // A gateway that stalls before the 10th acknowledgement is killed at the deadline (killedAfter "").
    await settle(() => killedAfter !== "", 20_000);
    await first.stop("SIGKILL");
    d.onAcked = undefined;
    d.forgetPending();

    await gw.start();
    await d.connect(false);
    await settle(() => d.received.missing(sent).length === 0, 30_000);
    await quiet(() => d.lastArrival);
    const f = figures(sent, d.received);
    report({
      scenario: "3a-sigkill-after-puback-awake",
      ...f,
      killedAfter,
      killedAfterDeliveredAgain: d.received.count(killedAfter) > 1,
      missing: d.received.missing(sent).slice(0, 10),
    });
    expect(d.received.missing(sent)).toEqual([]);
    expect(f.lost).toBe(0);
  }, 90_000);

  it("3b: SIGKILL just after a PUBACK while the device takes its held messages on wake: nothing lost", async () => {
    const broker = await persistentBroker();
    const gw = await gatewaySetup("s3b", broker.url);
    const first = await gw.start();
    const d = await device(gw.port, "f3b-sleeper");
    await d.connect(false);
    await d.subscribe("faults/3b/#", 1);
    await d.sleep(600);

    const sent = payloads("s3b", 30);
    const publisher = await mqttClient(broker.url, "f3b-publisher");
    await publishAll(publisher, "faults/3b/data", sent);
    await handedOver(broker, "f3b-sleeper", sent.length);
    const ackedToBroker = broker.pubAcksFrom(atBroker("f3b-sleeper"));
    let killedAfter = "";
    d.onAcked = (acked, payload) => {
      if (acked !== 10) return;
      killedAfter = payload;
      void first.stop("SIGKILL");
    };
    const wake = d.wake(30_000).catch(() => undefined);
    await settle(() => killedAfter !== "", 20_000);
    await first.stop("SIGKILL");
    d.onAcked = undefined;
    d.forgetPending();
    await wake;

    await gw.start();
    await wakeUntilAll(d, sent, 30_000);
    await quiet(() => d.lastArrival);
    const f = figures(sent, d.received);
    report({
      scenario: "3b-sigkill-after-puback-waking",
      ...f,
      ackedToBroker,
      killedAfter,
      missing: d.received.missing(sent),
    });
    expect(d.received.missing(sent)).toEqual([]);
    expect(f.lost).toBe(0);
  }, 90_000);

  it("4: Mosquitto restarted (persistence) under QoS 1 traffic both ways: nothing acknowledged is lost", async () => {
    const broker = await persistentBroker();
    const gw = await gatewaySetup("s4", broker.url, { tRetryMs: 500, nRetry: 10 });
    await gw.start();

    const upReceived = new Tally();
    let lastUp = 0;
    const sink = await mqttClient(broker.url, "f4-sink", false);
    sink.on("message", (_topic, payload) => {
      upReceived.add(payload.toString());
      lastUp = Date.now();
    });
    await sink.subscribeAsync("faults/4/up/#", { qos: 1 });
    const source = await mqttClient(broker.url, "f4-source", false);

    const client = new FaultClient({
      clientId: "f4-device",
      port: gw.port,
      subscribe: "faults/4/down/#",
      publishTopic: "faults/4/up/data",
      retryMs: 500,
      maxRetries: 10,
      reconnectDelayMs: 300,
    });
    cleanup.push(() => client.close());
    await client.start();
    await waitFor("the device subscribed", () => client.isSubscribed);

    const up = payloads("u4", 100);
    const down = payloads("d4", 100);
    const downAcked = new Set<string>();
    let handed = 0;
    const traffic = setInterval(() => {
      if (handed >= up.length) return;
      const i = handed++;
      client.publish([up[i]!]);
      const p = down[i]!;
      source.publish("faults/4/down/data", p, { qos: 1 }, (err) => {
        if (!err) downAcked.add(p);
      });
    }, 40);
    cleanup.push(() => clearInterval(traffic));

    await waitFor("traffic both ways", () => client.acknowledged.size >= 25 && downAcked.size >= 25);
    const statesBefore = client.states.length;
    await broker.stop();
    const handedAtStop = handed;
    // Traffic goes on while the broker is away; a gateway that ends the session tells the device (DISCONNECT).
    await waitFor("traffic handed over while the broker is away", () => handed >= handedAtStop + 10);
    await settle(() => client.states.slice(statesBefore).includes(ClientState.Lost), 5000);
    const deviceSawLost = client.states.slice(statesBefore).includes(ClientState.Lost);
    await broker.start();

    await settle(
      () =>
        handed >= up.length &&
        client.outstanding === 0 &&
        downAcked.size === down.length &&
        upReceived.missing(up).length === 0 &&
        client.received.missing(down).length === 0,
      60_000,
    );
    clearInterval(traffic);
    await quiet(() => Math.max(lastUp, client.lastArrival));
    const upAcked = up.filter((p) => client.acknowledged.has(p));
    const downAckedList = down.filter((p) => downAcked.has(p));
    const upFigures = figures(upAcked, upReceived);
    const downFigures = figures(downAckedList, client.received);
    report({
      scenario: "4-broker-restart",
      handedAtStop,
      deviceSawLost,
      up: { ...upFigures, handed: up.length, republished: client.republished },
      down: { ...downFigures, handed: down.length },
      missingUp: upReceived.missing(upAcked).slice(0, 10),
      missingDown: client.received.missing(downAckedList).slice(0, 10),
    });
    expect(upReceived.missing(upAcked)).toEqual([]);
    expect(client.received.missing(downAckedList)).toEqual([]);
    // Every message was acknowledged in the end, so the check above covers all of them.
    expect(upAcked.length).toBe(up.length);
    expect(downAckedList.length).toBe(down.length);
  }, 120_000);

  const seed = Number(process.env.FAULT_SEED ?? 0x5eed);
  describe.each([
    { lossPercent: 10, n: 50 },
    { lossPercent: 30, n: 40 },
  ])("5: lossy link at $lossPercent % loss", ({ lossPercent, n }) => {
    it("the device client's QoS 1 messages arrive both ways, none lost", async () => {
      const broker = await startMosquitto();
      cleanup.push(() => broker.stop());
      const gw = await gatewaySetup(`s5-${lossPercent}`, broker.url, {
        tRetryMs: 250,
        nRetry: 40,
        keepAliveGraceMs: 10_000,
      });
      await gw.start();
      const impairment: Impairment = { loss: lossPercent / 100, duplicate: 0.05, reorder: 0.05 };
      const link = await LossyLink.open({
        target: { host: "127.0.0.1", port: gw.port },
        seed: seed + lossPercent,
        up: impairment,
        down: impairment,
      });
      cleanup.push(() => link.close());

      const topic = `faults/5/${lossPercent}`;
      const upReceived = new Tally();
      let lastUp = 0;
      const sink = await mqttClient(broker.url, `f5-${lossPercent}-sink`);
      sink.on("message", (_t, payload) => {
        upReceived.add(payload.toString());
        lastUp = Date.now();
      });
      await sink.subscribeAsync(`${topic}/up/#`, { qos: 1 });
      const source = await mqttClient(broker.url, `f5-${lossPercent}-source`);

      const client = new FaultClient({
        clientId: `f5-${lossPercent}-device`,
        port: link.port,
        subscribe: `${topic}/down/#`,
        publishTopic: `${topic}/up/data`,
        retryMs: 250,
        maxRetries: 40,
        reconnectDelayMs: 300,
      });
      cleanup.push(() => client.close());
      await client.start();
      await waitFor("the device subscribed through the lossy link", () => client.isSubscribed, 30_000);

      const up = payloads(`u5-${lossPercent}`, n);
      const down = payloads(`d5-${lossPercent}`, n);
      client.publish(up);
      await publishAll(source, `${topic}/down/data`, down);
      await settle(
        () =>
          client.outstanding === 0 && upReceived.missing(up).length === 0 && client.received.missing(down).length === 0,
        60_000,
      );
      await quiet(() => Math.max(lastUp, client.lastArrival));
      const upFigures = figures(up, upReceived);
      const downFigures = figures(down, client.received);
      report({
        scenario: `5-lossy-link-${lossPercent}`,
        seed: seed + lossPercent,
        impairment,
        link: link.counts(),
        up: { ...upFigures, acknowledged: client.acknowledged.size, republished: client.republished },
        down: downFigures,
        deviceLostGateway: client.states.filter((s) => s === ClientState.Lost).length,
      });
      expect(upReceived.missing(up)).toEqual([]);
      expect(client.received.missing(down)).toEqual([]);
      expect(client.acknowledged.size).toBe(up.length);
    }, 120_000);
  });
});
