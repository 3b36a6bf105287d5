import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { startGateway, type RunningGateway } from "../../gateway/index";
import { startEmbeddedBroker, type EmbeddedBroker } from "../../gateway/broker/embedded";
import { startMosquitto, type RunningMosquitto } from "../support/mosquitto";
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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type { EmbeddedBroker };
export { startEmbeddedBroker };
