/** The fixed part of the model test's world: names, addresses, timers and the gateway's configuration. */

export const CLIENT_IDS = ["d0", "d1", "d2"] as const;
export const ADDRESSES = ["10.0.0.1:5000", "10.0.0.2:5000", "10.0.0.3:5000", "10.0.0.4:5000"] as const;
export const TOPICS = ["t/a", "t/b", "ab"] as const;
export const FILTERS = ["t/a", "t/#", "ab"] as const;

export const TIMERS = {
  tRetryMs: 1000,
  nRetry: 2,
  keepAliveGraceMs: 0,
  advertiseIntervalS: 0,
  upstreamConnectTimeoutMs: 3000,
  willHandshakeTimeoutMs: 3000,
};
export const SLEEP_GRACE_MS = 1000;

/** How a run starts: the gateway's store and queue bound, and where each device stands. */
export interface Setup {
  /** A durable store (sleep.store.path set): a sleeping CleanSession 0 session's messages go to the disk. */
  durable: boolean;
  /** sleep.maxMessages: the bound of every client's queue. */
  queueLimit: number;
  /** Per device: never connected through this gateway, connected with CleanSession 0, or asleep. */
  starts: ReadonlyArray<"offline" | "active" | "asleep">;
}

/** Messages the disk (the store shared by the gateway processes of a run) holds at most: few, so that it fills. */
export const DISK_MAX_MESSAGES = 4;

/** Small queues and a small disk, so that the full-queue, deferral and store-refusal paths are reached. */
export function gatewayConfig(setup: Setup): unknown {
  return {
    udp: ["127.0.0.1:0"],
    advertiseTarget: "",
    // Never contacted: the upstream is the fake broker.
    broker: "mqtt://127.0.0.1:1",
    limits: { maxClients: 16, maxInflight: 4, maxHandshakesPerSource: 100, maxConnectsPerSecondPerSource: 1000 },
    timers: TIMERS,
    sleep: {
      maxMessages: setup.queueLimit,
      graceMs: SLEEP_GRACE_MS,
      allowAddressChange: ["d1"],
      // A path makes the store durable in the session logic; the store itself is the one handed in.
      store: { path: setup.durable ? "unused" : "", maxSessions: 100 },
    },
  };
}

/** A durable store, queues of 3, every device offline: the setup of the plain scenarios. */
export const PLAIN_SETUP: Setup = { durable: true, queueLimit: 3, starts: ["offline", "offline", "offline"] };
