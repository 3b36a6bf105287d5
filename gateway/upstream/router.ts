import type {
  AggregatingFigures,
  Upstream,
  UpstreamConnectionState,
  UpstreamSession,
  UpstreamSessionOptions,
  UpstreamSink,
} from "./upstream";
import type { BrokerStatus } from "./gateway-connection";
import { modeFor, type ModeConfig } from "./mode";

/**
 * Both modes side by side: each client goes to the adapter its mode names (modeFor). QoS -1 publishes and
 * the broker's reachability go through the transparent adapter's own connection.
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
    this.transparent.publishAnonymous(topic, payload, retain);
  }

  brokerStatus(): BrokerStatus {
    return this.transparent.brokerStatus?.() ?? "unknown";
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
