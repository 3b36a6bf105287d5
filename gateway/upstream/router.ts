import type {
  AggregatingFigures,
  Upstream,
  UpstreamConnectionState,
  UpstreamSession,
  UpstreamSessionOptions,
  UpstreamSink,
} from "./upstream";
import type { BrokerStatus } from "./broker-watch";
import { modeFor, type ModeConfig } from "./mode";

/**
 * Both modes side by side: each client goes to the adapter its mode names (modeFor). QoS -1 publishes and
 * the broker's reachability go through the aggregating adapter's first shared connection, so that the
 * gateway holds no connection of its own beside the pool.
 */
export class ModeRouter implements Upstream {
  constructor(
    private readonly modes: ModeConfig,
    private readonly transparent: Upstream,
    private readonly aggregating: Upstream,
  ) {}

  open(options: UpstreamSessionOptions, sink: UpstreamSink): UpstreamSession {
    const adapter = modeFor(this.modes, options.clientId) === "aggregating" ? this.aggregating : this.transparent;
    return adapter.open(options, sink);
  }

  publishAnonymous(topic: string, payload: Uint8Array, retain: boolean): void {
    this.aggregating.publishAnonymous(topic, payload, retain);
  }

  watchBroker(): void {
    this.aggregating.watchBroker?.();
  }

  brokerStatus(): BrokerStatus {
    return this.aggregating.brokerStatus?.() ?? "unknown";
  }

  connectionStates(): Record<UpstreamConnectionState, number> {
    const a = this.transparent.connectionStates?.() ?? { waiting: 0, connecting: 0, open: 0, replacing: 0 };
    const b = this.aggregating.connectionStates?.() ?? { waiting: 0, connecting: 0, open: 0, replacing: 0 };
    return {
      waiting: a.waiting + b.waiting,
      connecting: a.connecting + b.connecting,
      open: a.open + b.open,
      replacing: a.replacing + b.replacing,
    };
  }

  aggregatingFigures(): AggregatingFigures | undefined {
    return this.aggregating.aggregatingFigures?.();
  }

  async restore(): Promise<void> {
    await this.aggregating.restore?.();
  }

  async close(): Promise<void> {
    await Promise.all([this.transparent.close(), this.aggregating.close()]);
  }
}
