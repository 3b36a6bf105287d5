import type { SerialPort } from "serialport";
import type { Link, Log } from "../link";
import { silentLog } from "../silent-log";
import { DEFAULT_REOPEN_BACKOFF, nextDelay, worthLogging, type Backoff } from "./backoff";
import type { FramingCounters } from "./counters";
import { createFramer, type Framer, type Framing } from "./framing";

export interface SerialLinkOptions {
  /** Device path, e.g. /dev/ttyUSB0 or a stable udev name such as /dev/mqttsn-radio. */
  path: string;
  baudRate: number;
  framing: Framing;
  /** Largest MQTT-SN message in octets (a forwarder's Encapsulated header included). Default 1024. */
  mtu?: number;
  /** Raw framing: octets left pending this long with no new octet are dropped as garbage. Default 500 ms. */
  rawIdleTimeoutMs?: number;
  /** Delays between attempts to reopen a port that disappeared. */
  reopen?: Backoff;
  /** Octets waiting to be written before send() refuses more. Default 64 KiB. */
  maxWriteQueue?: number;
  log?: Log;
}

export interface SerialLinkStats extends FramingCounters {
  framesSent: number;
  /** send() calls refused: oversize, link down, unknown address, write queue full. */
  refused: number;
  /** Times the port was lost (closed by the system, unplugged). */
  lost: number;
  /** Times the port was opened again after a loss. */
  reopened: number;
  up: boolean;
}

export const DEFAULT_SERIAL_MTU = 1024;
/** The 3-octet Length form (§5.2.1) cannot express more. */
const MAX_MTU = 65535;

/**
 * One serial port as a Link. The line reaches one device, whose address is the port path; a forwarder on
 * the line (Encapsulated messages, §5.5) is still that one address, and the gateway tells its nodes apart.
 * A port that fails or disappears is reopened with backoff for as long as the link is open; name and
 * address stay the same, so sessions behind it survive a short outage.
 */
export class SerialLink implements Link {
  readonly name: string;
  readonly mtu: number;
  readonly address: string;
  private readonly framer: Framer;
  private readonly log: Log;
  private readonly backoff: Backoff;
  private readonly idleMs: number;
  private readonly maxWriteQueue: number;
  private port: SerialPort | undefined;
  private onFrame: ((frame: Uint8Array, address: string) => void) | undefined;
  private closed = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastDelay: number | undefined;
  private attempts = 0;
  private readonly sendStats = { framesSent: 0, refused: 0, lost: 0, reopened: 0 };
  private reported: FramingCounters;

  constructor(private readonly options: SerialLinkOptions) {
    const mtu = options.mtu ?? DEFAULT_SERIAL_MTU;
    if (!Number.isInteger(mtu) || mtu < 2 || mtu > MAX_MTU) {
      throw new Error(`serial ${options.path}: mtu ${mtu} is not allowed; use an integer from 2 to ${MAX_MTU}`);
    }
    this.name = `serial:${options.path}`;
    this.address = options.path;
    this.mtu = mtu;
    this.log = options.log ?? silentLog;
    this.backoff = options.reopen ?? DEFAULT_REOPEN_BACKOFF;
    this.idleMs = options.rawIdleTimeoutMs ?? 500;
    this.maxWriteQueue = options.maxWriteQueue ?? 65536;
    this.framer = createFramer(options.framing, mtu, (message) => this.onFrame?.(message, this.address));
    this.reported = { ...this.framer.counters };
  }

  stats(): SerialLinkStats {
    return { ...this.framer.counters, ...this.sendStats, up: this.port?.isOpen === true };
  }

  async open(onFrame: (frame: Uint8Array, address: string) => void): Promise<void> {
    if (this.onFrame) throw new Error(`${this.name} is already open`);
    this.onFrame = onFrame;
    this.closed = false;
    const error = await this.tryOpen();
    if (error) {
      this.log.warn("serial-open-failed", {
        link: this.name,
        error: error.message,
        hint: "check the path and that this user may open it (group dialout); retrying in the background",
      });
      this.scheduleReopen();
    } else {
      this.log.info("serial-open", { link: this.name, baudRate: this.options.baudRate, framing: this.options.framing });
    }
  }

  send(address: string, frame: Uint8Array): boolean {
    if (address !== this.address) return this.refuse("unknown address", { address });
    return this.write(frame);
  }

  broadcast(frame: Uint8Array): void {
    this.write(frame);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onFrame = undefined;
    clearTimeout(this.reopenTimer);
    clearTimeout(this.idleTimer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    port?.removeAllListeners();
    port?.on("error", () => undefined);
    this.framer.reset();
  }

  private write(frame: Uint8Array): boolean {
    if (frame.length > this.mtu) return this.refuse("frame larger than mtu", { length: frame.length, mtu: this.mtu });
    const port = this.port;
    if (this.closed || !port?.isOpen) return this.refuse("link down", {});
    if (port.writableLength > this.maxWriteQueue) {
      return this.refuse("write queue full", { queued: port.writableLength, limit: this.maxWriteQueue });
    }
    port.write(Buffer.from(this.framer.encode(frame)));
    this.sendStats.framesSent++;
    return true;
  }

  private refuse(reason: string, fields: Record<string, unknown>): boolean {
    this.sendStats.refused++;
    this.log.warn("serial-send-refused", { link: this.name, reason, ...fields });
    return false;
  }

  private async tryOpen(): Promise<Error | undefined> {
    // Loaded here, not at start: a gateway without serial ports never loads the native binding.
    const { SerialPort } = await import("serialport");
    const port = new SerialPort({ path: this.options.path, baudRate: this.options.baudRate, autoOpen: false });
    port.on("error", (err: Error) => this.log.debug("serial-error", { link: this.name, error: err.message }));
    return new Promise((resolve) => {
      port.open((err) => {
        if (err) {
          resolve(err);
          return;
        }
        if (this.closed) {
          port.close(() => resolve(undefined));
          return;
        }
        this.framer.reset();
        this.port = port;
        port.on("data", (chunk: Buffer) => this.receive(chunk));
        port.on("close", (closeError?: Error) => this.lost(port, closeError));
        port.on("end", () => this.lost(port, undefined));
        resolve(undefined);
      });
    });
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.framer.push(chunk);
    this.reportDrops();
    clearTimeout(this.idleTimer);
    if (this.framer.pending > 0) {
      this.idleTimer = setTimeout(() => {
        this.framer.expire();
        this.reportDrops();
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }

  private reportDrops(): void {
    const now = this.framer.counters;
    const before = this.reported;
    if (
      now.garbageOctets === before.garbageOctets &&
      now.badCrc === before.badCrc &&
      now.oversize === before.oversize &&
      now.malformed === before.malformed
    ) {
      return;
    }
    this.log.debug("serial-dropped", {
      link: this.name,
      garbageOctets: now.garbageOctets - before.garbageOctets,
      badCrc: now.badCrc - before.badCrc,
      oversize: now.oversize - before.oversize,
      malformed: now.malformed - before.malformed,
    });
    this.reported = { ...now };
  }

  private lost(port: SerialPort, error: Error | undefined): void {
    if (this.port !== port) return;
    this.port = undefined;
    port.removeAllListeners("data");
    port.removeAllListeners("close");
    port.removeAllListeners("end");
    if (port.isOpen) port.close(() => undefined);
    if (this.closed) return;
    this.sendStats.lost++;
    this.log.warn("serial-lost", { link: this.name, error: error?.message, hint: "reopening with backoff" });
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.closed) return;
    const delay = nextDelay(this.backoff, this.lastDelay);
    this.lastDelay = delay;
    this.reopenTimer = setTimeout(() => void this.reopen(), delay);
  }

  private async reopen(): Promise<void> {
    if (this.closed) return;
    this.attempts++;
    const error = await this.tryOpen();
    if (this.closed) return;
    if (error) {
      if (worthLogging(this.attempts)) {
        this.log.warn("serial-reopen-failed", { link: this.name, attempt: this.attempts, error: error.message });
      }
      this.scheduleReopen();
      return;
    }
    this.log.info("serial-reopened", { link: this.name, attempts: this.attempts });
    this.sendStats.reopened++;
    this.attempts = 0;
    this.lastDelay = undefined;
  }
}
