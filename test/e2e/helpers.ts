import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startGateway, type RunningGateway } from "../../gateway/index";
import { startEmbeddedBroker, type EmbeddedBroker } from "../../gateway/broker/embedded";
import { startMosquitto, type RunningMosquitto } from "../support/mosquitto";
import { SnClient } from "../support/sn-client";
import { withTestMode } from "../support/upstream-mode";

export interface BrokerUnderTest {
  name: string;
  /** Starts the broker (or nothing for "embedded") and returns the gateway's broker setting. */
  start(): Promise<{ broker: string; stop(): Promise<void> }>;
}

export const brokers: BrokerUnderTest[] = [
  {
    name: "embedded aedes",
    start: async () => ({ broker: "embedded", stop: async () => {} }),
  },
  {
    name: "mosquitto",
    start: async () => {
      const m: RunningMosquitto = await startMosquitto();
      return { broker: m.url, stop: () => m.stop() };
    },
  },
];

export interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** An mqtt.js client on the broker side that records every message it receives. */
export class Watcher {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on("message", (topic, payload, packet) =>
      this.messages.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
    );
  }

  static async connect(url: string, filter = "#"): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      clientId: `watcher-${Math.random().toString(16).slice(2)}`,
    });
    await client.subscribeAsync(filter, { qos: 2 });
    return new Watcher(client);
  }

  async waitFor(predicate: (m: Received) => boolean, timeoutMs = 4000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.messages.find(predicate);
      if (m !== undefined) return m;
      if (Date.now() > deadline)
        throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  count(predicate: (m: Received) => boolean): number {
    return this.messages.filter(predicate).length;
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}

export interface Harness {
  gateway: RunningGateway;
  watcher: Watcher;
  address: string;
  close(): Promise<void>;
}

/** A gateway on 127.0.0.1 port 0 with short timers, the given broker, and a watcher subscribed to "#". */
export async function startHarness(broker: string, overrides: Record<string, unknown> = {}): Promise<Harness> {
  const {
    timers,
    limits,
    sleep: sleepConfig,
    ...rest
  } = overrides as { timers?: object; limits?: object; sleep?: { store?: object } };
  const gateway = await startGateway(
    withTestMode({
      udp: ["127.0.0.1:0"],
      broker,
      embeddedPort: 0,
      ...rest,
      timers: { advertiseIntervalS: 0, tRetryMs: 300, nRetry: 2, upstreamConnectTimeoutMs: 2000, ...timers },
      limits: { ...limits },
      // Each gateway its own session store: LevelDB allows one user per directory.
      sleep: {
        ...sleepConfig,
        store: { path: mkdtempSync(join(tmpdir(), "mqttsn-sessions-")), ...sleepConfig?.store },
      },
    }),
  );
  const watcher = await Watcher.connect(gateway.brokerUrl);
  return {
    gateway,
    watcher,
    address: gateway.udpAddresses[0] as string,
    close: async () => {
      await watcher.close();
      await gateway.close();
    },
  };
}

/**
 * The broker of a describe block: started before its first test, stopped after its last. Returns its
 * `broker` setting for the gateway ("embedded", or the broker's URL).
 */
export function brokerPerBlock(brokerUnderTest: BrokerUnderTest): () => string {
  let running: { broker: string; stop(): Promise<void> } | undefined;
  beforeAll(async () => {
    running = await brokerUnderTest.start();
  });
  afterAll(async () => {
    await running?.stop();
  });
  return () => (running as { broker: string }).broker;
}

/**
 * A gateway and devices per test of a describe block: start() gives the test its gateway (the
 * block's defaults, then the test's overrides), client() a device on its UDP link or at address.
 * After each test the devices and the gateway are closed, whatever the test left open.
 */
export function gatewayPerTest(broker: () => string, defaults: Record<string, unknown> = {}) {
  let harness: Harness | undefined;
  const clients: SnClient[] = [];
  const closeGateway = async (): Promise<void> => {
    const h = harness;
    harness = undefined;
    if (h !== undefined) await h.close();
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await closeGateway();
  });
  return {
    start: async (overrides: Record<string, unknown> = {}): Promise<Harness> =>
      (harness = await startHarness(broker(), { ...defaults, ...overrides })),
    client: async (address?: string): Promise<SnClient> => {
      const c = await SnClient.open(address ?? (harness as Harness).address);
      clients.push(c);
      return c;
    },
    /** The test's gateway, once start() made it. */
    harness: (): Harness | undefined => harness,
    /** Closes the test's gateway before the test ends. */
    closeGateway,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type { EmbeddedBroker };
export { startEmbeddedBroker };
