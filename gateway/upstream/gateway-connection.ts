import type { Log } from "../../transports/link";
import { withoutPassword } from "../log";
import { MqttConnection, type ConnectionOptions } from "./connection";

/** Whether the broker answers the gateway's own connection. */
export type BrokerStatus = "unknown" | "reachable" | "refused" | "unreachable";

/** Publishes made while the connection is down wait, at most this many; beyond, they are dropped. */
const MAX_WAITING = 1000;
/** The connection is opened again at most this often after it failed. */
export const GATEWAY_CONNECTION_RETRY_MS = 5000;
/** While the broker stays unreachable, a warning every this many failed attempts (once a minute). */
const REMIND_EVERY = 12;

/**
 * The gateway's own MQTT connection. It carries QoS -1 publishes (§6.8), opened on first use; once
 * watch() is called it is also kept open and opened again every GATEWAY_CONNECTION_RETRY_MS after it
 * failed, and tells whether the broker is reachable: the first failure is a warning with the retry
 * cadence (`broker-unreachable`), a reminder follows once a minute, and the way back is a warning too
 * (`broker-reachable`), so that an outage and its end show at the default log level.
 */
export class GatewayConnection {
  private connection: MqttConnection | undefined;
  private lastAttempt = -Infinity;
  private retry: NodeJS.Timeout | undefined;
  private readonly waiting: Array<[string, Uint8Array, boolean]> = [];
  private closed = false;
  private watching = false;
  private current: BrokerStatus = "unknown";
  private failures = 0;
  private downSince = 0;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly log: Log,
    private readonly retryMs = GATEWAY_CONNECTION_RETRY_MS,
  ) {}

  /** The broker's status as the last attempt found it; "unknown" before it settled or without watch(). */
  get status(): BrokerStatus {
    return this.current;
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
          this.settled("refused", `CONNACK return code ${returnCode}`, { returnCode });
          return;
        }
        this.settled("reachable", undefined, {});
        for (const [topic, payload, retain] of this.waiting.splice(0)) connection.publish(topic, payload, 0, retain);
      },
      message: () => undefined,
      closed: (error) => {
        if (this.connection === connection) this.connection = undefined;
        if (this.closed) return;
        if (error !== undefined && !refused) this.settled("unreachable", error.message, {});
        if (this.watching || this.waiting.length > 0) this.schedule();
      },
    });
    this.connection = connection;
    connection.start();
  }

  /** Records what an attempt found and logs the changes worth an operator's attention. */
  private settled(status: BrokerStatus, error: string | undefined, fields: Record<string, unknown>): void {
    const before = this.current;
    const broker = withoutPassword(this.options.url);
    if (status === "reachable") {
      this.current = status;
      if (before === "unreachable" || before === "refused")
        this.log.warn("broker-reachable", { broker, downForMs: Date.now() - this.downSince, attempts: this.failures });
      else this.log.info("broker-reachable", { broker });
      this.failures = 0;
      return;
    }
    if (this.failures === 0) this.downSince = Date.now();
    this.failures++;
    this.current = status;
    if (!this.watching) {
      this.log.warn(status === "refused" ? "upstream-refused" : "upstream-error", {
        clientId: this.options.clientId,
        error,
      });
      return;
    }
    const event = status === "refused" ? "broker-refused" : "broker-unreachable";
    const report = {
      broker,
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

  close(): Promise<void> {
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    const c = this.connection;
    this.connection = undefined;
    return c === undefined ? Promise.resolve() : c.close(true);
  }
}
