import { lookup } from "node:dns/promises";
import { performance } from "node:perf_hooks";
import { MqttSnClient } from "../core/client";
import type { ClientHandler, ClientOptions } from "../core/types";
import { openDtlsSession, type DtlsSession } from "./dtls-session";

export interface NodeDtlsConfig {
  /** The gateway's DTLS listener: a host name, an IPv4 or an IPv6 address, and its port. */
  host: string;
  port: number;
  /** Authorities (PEM) the gateway's certificate must come from; unset, the gateway is not authenticated. */
  caPem?: string;
  /** This device's certificate and key (PEM), for a gateway that verifies clients (dtls.caFile). */
  certPem?: string;
  keyPem?: string;
  /** Largest message the client sends, in octets; default 256. */
  bufferSize?: number;
  /** Exchanges open at once; default 4. */
  inflight?: number;
  /** Milliseconds between tick() calls; default 100. */
  tickInterval?: number;
  /** Records handed to the session whose send has not completed, at which publish() returns Busy (-2); default 4. */
  maxPending?: number;
}

/**
 * The Node adapter over DTLS 1.2: one session to the configured gateway, opened (and the gateway checked) by
 * start() before the client starts. DTLS has no broadcast, so SEARCHGW goes nowhere and the client uses the
 * configured gateway. Backpressure as in the UDP adapter: sends not yet completed are counted.
 */
export class NodeDtlsClient {
  readonly client: MqttSnClient;
  private session: DtlsSession | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending = 0;
  private readonly epoch = performance.now();

  constructor(
    handler: ClientHandler,
    options: ClientOptions,
    private readonly config: NodeDtlsConfig,
  ) {
    const size = config.bufferSize ?? 256;
    const inflight: Uint8Array[] = [];
    for (let i = 0; i < (config.inflight ?? 4); i++) inflight.push(new Uint8Array(size));
    this.client = new MqttSnClient(
      {
        send: (bytes, length) => this.send(bytes, length),
        broadcast: () => {},
        selectGateway: () => {},
        busy: () => this.pending >= (config.maxPending ?? 4),
      },
      handler,
      { tx: new Uint8Array(size) as unknown as number[], inflight: inflight as unknown as number[][], size },
      options,
    );
  }

  /** Resolves the host, completes the DTLS handshake (rejects if the gateway is not trusted), starts the client. */
  async start(): Promise<void> {
    const resolved = await lookup(this.config.host, { order: "ipv4first", verbatim: false });
    const session = await openDtlsSession({
      host: resolved.address,
      port: this.config.port,
      ...(this.config.caPem !== undefined ? { caPem: this.config.caPem } : {}),
      ...(this.config.certPem !== undefined ? { certPem: this.config.certPem } : {}),
      ...(this.config.keyPem !== undefined ? { keyPem: this.config.keyPem } : {}),
    });
    this.session = session;
    session.onMessage((msg) => {
      this.client.tick(this.now());
      this.client.receive(msg as unknown as number[], msg.length, true);
    });
    this.client.start(this.now());
    this.timer = setInterval(() => this.client.tick(this.now()), this.config.tickInterval ?? 100);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.session?.close();
    this.session = undefined;
  }

  private now(): number {
    return Math.floor(performance.now() - this.epoch);
  }

  private send(bytes: number[], length: number): void {
    const session = this.session;
    if (session === undefined) return;
    const copy = Buffer.from((bytes as unknown as Uint8Array).subarray(0, length));
    this.pending++;
    session.send(copy).then(
      () => this.sent(),
      () => this.sent(),
    );
  }

  private sent(): void {
    this.pending--;
    if (this.session) this.client.tick(this.now());
  }
}
