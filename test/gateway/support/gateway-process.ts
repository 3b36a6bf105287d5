import { vi } from "vitest";
import { startGateway, type RunningGateway } from "../../../gateway/gateway";
import type { MemorySessionStore } from "../../../gateway/store/memory";
import type { Message } from "../../../protocol";
import type { Log } from "../../../transports/link";
import { CrashableStore } from "./crashable-store";
import type { FakeBroker } from "./fake-broker";
import { FakeUpstream } from "./fake-upstream";
import { MemoryLink } from "./memory-link";

/** Name of the memory link in every process: the store records it, and a restarted gateway finds it again. */
export const LINK_NAME = "model";

/** One run of the real gateway (startGateway) on the shared disk, broker and clock. */
export interface GatewayProcess {
  generation: number;
  gw: RunningGateway;
  link: MemoryLink;
  store: CrashableStore;
  upstream: FakeUpstream;
  /** The gateway's own timer callback (every session deadline), run by the test when its clock moves. */
  tick: () => void;
  /** The period the gateway asked its timer for, ms. */
  tickMs: number;
  /** Errors the gateway logged (session faults and other caught exceptions). */
  errors: string[];
}

export interface Shared {
  config: unknown;
  /** The gateway gets the store (a CrashableStore on the disk); otherwise it runs without one. */
  durable: boolean;
  disk: MemorySessionStore;
  broker: FakeBroker;
  now: () => number;
  heard: (address: string, message: Message) => void;
}

function recordingLog(errors: string[]): Log {
  return {
    debug() {},
    info() {},
    warn() {},
    error: (event, fields) => errors.push(`${event} ${JSON.stringify(fields)}`),
  };
}

/**
 * Starts a gateway process. Its timer is the one thing taken away from it: startGateway's setInterval is
 * caught while it starts, so no real timer runs, and the test calls the very callback it registered
 * each time the fake clock moves by that period. This keeps a run deterministic (replayable from its
 * seed), and a killed process simply stops being ticked: its timer is not stopped through close(),
 * whose shutdown would run session logic that a kill -9 never runs.
 */
export async function startProcess(shared: Shared, generation: number): Promise<GatewayProcess> {
  const link = new MemoryLink(LINK_NAME, shared.heard);
  const store = new CrashableStore(shared.disk);
  const upstream = new FakeUpstream(shared.broker, generation);
  const errors: string[] = [];
  const timers: Array<{ callback: () => void; ms: number }> = [];
  const spy = vi.spyOn(globalThis, "setInterval").mockImplementation(((callback: () => void, ms: number) => {
    timers.push({ callback, ms });
    const handle = { unref: () => handle, ref: () => handle, hasRef: () => false };
    return handle;
  }) as unknown as typeof setInterval);
  let gw: RunningGateway;
  try {
    gw = await startGateway(shared.config, {
      links: [link],
      upstream,
      now: shared.now,
      ...(shared.durable ? { store } : {}),
      log: recordingLog(errors),
    });
  } finally {
    spy.mockRestore();
  }
  const timer = timers[0];
  if (timers.length !== 1 || timer === undefined)
    throw new Error(`expected startGateway to start one timer, it started ${timers.length}`);
  return { generation, gw, link, store, upstream, tick: timer.callback, tickMs: timer.ms, errors };
}

/**
 * kill -9: the link goes dead, the broker sees the process's connections drop (wills published), the
 * first `persisted` writes waiting for the disk reach it and the rest are lost. No gateway code runs;
 * only its UDP socket is closed, as the kernel would. Returns the writes lost.
 */
export async function killProcess(p: GatewayProcess, broker: FakeBroker, persisted: number): Promise<string[]> {
  p.link.sever();
  broker.crash(p.upstream);
  const lost = await p.store.crash(persisted);
  for (const link of p.gw.links) if (link !== p.link) await link.close();
  return lost;
}
