import type { Log } from "../../transports/link";
import { withoutPassword } from "../log";

/** Whether the broker answers the connection the gateway keeps open to watch it. */
export type BrokerStatus = "unknown" | "reachable" | "refused" | "unreachable";

/** The watching connection is opened again this often after it failed. */
export const BROKER_RETRY_MS = 5000;
/** While the broker stays unreachable, a warning every this many failed attempts (once a minute). */
const REMIND_EVERY = 12;

/**
 * What the attempts of the watching connection found, and what an operator is told: the first failure is a
 * warning with the retry cadence (`broker-unreachable`, `broker-refused`), a reminder follows once a minute,
 * and the way back is a warning too (`broker-reachable`), so that an outage and its end show at the default
 * log level.
 */
export class BrokerWatch {
  private current: BrokerStatus = "unknown";
  private failures = 0;
  private downSince = 0;
  private readonly broker: unknown;

  constructor(
    url: string,
    private readonly log: Log,
    private readonly retryMs = BROKER_RETRY_MS,
  ) {
    this.broker = withoutPassword(url);
  }

  /** "unknown" until the first attempt settled. */
  get status(): BrokerStatus {
    return this.current;
  }

  reached(): void {
    const before = this.current;
    this.current = "reachable";
    if (before === "unreachable" || before === "refused")
      this.log.warn("broker-reachable", {
        broker: this.broker,
        downForMs: Date.now() - this.downSince,
        attempts: this.failures,
      });
    else this.log.info("broker-reachable", { broker: this.broker });
    this.failures = 0;
  }

  /** An attempt failed: `refused` with CONNACK's return code in `fields`, or `unreachable`. */
  failed(status: "refused" | "unreachable", error: string | undefined, fields: Record<string, unknown>): void {
    const before = this.current;
    if (this.failures === 0) this.downSince = Date.now();
    this.failures++;
    this.current = status;
    const event = status === "refused" ? "broker-refused" : "broker-unreachable";
    const report = {
      broker: this.broker,
      error,
      ...fields,
      retryMs: this.retryMs,
      attempts: this.failures,
      downForMs: Date.now() - this.downSince,
      action: `retrying every ${this.retryMs / 1000} s; devices get CONNACK congestion (0x01) meanwhile`,
    };
    if (before !== status || this.failures % REMIND_EVERY === 0) this.log.warn(event, report);
    else this.log.debug(event, report);
  }
}
