import type { Log } from "../../transports/link";
import { BROKER_RETRY_MS, BrokerWatch, type BrokerStatus } from "./broker-watch";
import { MqttConnection, type ConnectionOptions } from "./connection";

/** Publishes made while the connection is down wait, at most this many; beyond, they are dropped. */
const MAX_WAITING = 1000;

/**
 * The gateway's own MQTT connection in transparent mode. It carries QoS -1 publishes (§6.8), opened on
 * first use; once watch() is called it is also kept open and opened again every BROKER_RETRY_MS after it
 * failed, and tells whether the broker is reachable (BrokerWatch).
 */
export class GatewayConnection {
  private connection: MqttConnection | undefined;
  private lastAttempt = -Infinity;
  private retry: NodeJS.Timeout | undefined;
  private readonly waiting: Array<[string, Uint8Array, boolean]> = [];
  private closed = false;
  private watching = false;
  private readonly reports: BrokerWatch;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly log: Log,
    private readonly retryMs = BROKER_RETRY_MS,
  ) {
    this.reports = new BrokerWatch(options.url, log, retryMs);
  }

  /** The broker's status as the last attempt found it; "unknown" before it settled or without watch(). */
  get status(): BrokerStatus {
    return this.watching ? this.reports.status : "unknown";
  }

  /** Opens the connection now and keeps it open for as long as this object lives. */
  watch(): void {
    if (this.watching || this.closed) return;
    this.watching = true;
    if (this.connection === undefined && this.retry === undefined) this.connect();
  }

  publish(topic: string, payload: Uint8Array, retain: boolean): void {
    const c = this.connection;
    if (c !== undefined && c.state === "open") {
      c.publish(topic, payload, 0, retain);
      return;
    }
    if (this.waiting.length < MAX_WAITING) this.waiting.push([topic, new Uint8Array(payload), retain]);
    if (c === undefined) this.schedule();
  }

  /** Connects now, or once the retry interval since the last attempt is over. */
  private schedule(): void {
    if (this.closed || this.retry !== undefined || this.connection !== undefined) return;
    const wait = this.lastAttempt + this.retryMs - Date.now();
    if (wait <= 0) {
      this.connect();
      return;
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed && this.connection === undefined) this.connect();
    }, wait);
    this.retry.unref();
  }

  private connect(): void {
    this.lastAttempt = Date.now();
    let refused = false;
    const connection: MqttConnection = new MqttConnection(this.options, {
      connack: (returnCode) => {
        refused = returnCode !== 0;
        if (returnCode !== 0) {
          this.failed("refused", `CONNACK return code ${returnCode}`, { returnCode });
          return;
        }
        if (this.watching) this.reports.reached();
        for (const [topic, payload, retain] of this.waiting.splice(0)) connection.publish(topic, payload, 0, retain);
      },
      message: () => undefined,
      closed: (error) => {
        if (this.connection === connection) this.connection = undefined;
        if (this.closed) return;
        if (error !== undefined && !refused) this.failed("unreachable", error.message, {});
        if (this.watching || this.waiting.length > 0) this.schedule();
      },
    });
    this.connection = connection;
    connection.start();
  }

  /** Watching, the broker watch reports it; otherwise it is this connection's own warning. */
  private failed(status: "refused" | "unreachable", error: string, fields: Record<string, unknown>): void {
    if (this.watching) this.reports.failed(status, error, fields);
    else
      this.log.warn(status === "refused" ? "upstream-refused" : "upstream-error", {
        clientId: this.options.clientId,
        error,
      });
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const c = this.connection;
    this.connection = undefined;
    return c === undefined ? Promise.resolve() : c.close(true);
  }
}
