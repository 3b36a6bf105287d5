import { captureConsole } from "../console-capture";
import type { Link, Log } from "../link";
import { nextDelay, worthLogging, type Backoff } from "../serial/backoff";
import { newFramingCounters, type FramingCounters } from "../serial/counters";
import { createFramer, type Framer, type Framing } from "../serial/framing";
import { silentLog } from "../silent-log";
import {
  loadNoble,
  NUS_RX,
  NUS_SERVICE,
  NUS_TX,
  type CharacteristicApi,
  type NobleApi,
  type PeripheralApi,
} from "./noble-api";

/** Which peripheral to serve: by advertised local name, or by address (aa:bb:cc:dd:ee:ff or noble's id). */
export interface BlePeripheralMatch {
  name?: string;
  address?: string;
}

export interface BleLinkOptions {
  /** At least one; each matches one peripheral, which then is one client. */
  peripherals: BlePeripheralMatch[];
  /** Framing over the UART characteristics. Default "slip". */
  framing?: Framing;
  /** Largest MQTT-SN message in octets. Default 512. */
  mtu?: number;
  /** Octets per write to the RX characteristic: ATT MTU minus 3. Default 20 (the BLE 4.0 minimum). */
  writeChunk?: number;
  /** Delays between attempts to reconnect a peripheral that dropped or could not be reached. */
  reconnect?: Backoff;
  /** A connection attempt (connect, discovery, subscribe) that has not finished by then is abandoned. Default 10 s. */
  connectTimeoutMs?: number;
  /** Octets waiting to be written to one peripheral before send() refuses more. Default 16 KiB. */
  maxWriteQueue?: number;
  /** Raw framing: pending octets dropped after this idle time. Default 500 ms. */
  rawIdleTimeoutMs?: number;
  log?: Log;
  /** The noble instance; loaded lazily from @stoprocent/noble when absent. */
  noble?: NobleApi;
}

export interface BleLinkStats extends FramingCounters {
  framesSent: number;
  refused: number;
  connects: number;
  disconnects: number;
  connected: number;
}

interface Connection {
  readonly rx: CharacteristicApi;
  readonly framer: Framer;
  readonly withoutResponse: boolean;
  readonly queue: Uint8Array[];
  queued: number;
  writing: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

interface Entry {
  readonly match: BlePeripheralMatch;
  peripheral: PeripheralApi | undefined;
  connection: Connection | undefined;
  connecting: boolean;
  timer: NodeJS.Timeout | undefined;
  lastDelay: number | undefined;
  attempts: number;
  onDisconnect: ((reason?: unknown) => void) | undefined;
}

const DEFAULT_BLE_RECONNECT: Backoff = { initialMs: 1000, maxMs: 30_000 };

const normaliseAddress = (a: string) => a.toLowerCase().replace(/[^0-9a-f]/g, "");

/**
 * The gateway as BLE central: scans for peripherals offering the Nordic UART Service, connects to the
 * configured ones, and carries MQTT-SN frames over RX (write) and TX (notify) with the serial framing rules.
 * Each peripheral is one client, its address the noble peripheral id. A peripheral that drops is
 * reconnected with backoff for as long as the link is open.
 */
export class BleLink implements Link {
  readonly name = "ble";
  readonly mtu: number;
  private readonly framing: Framing;
  private readonly writeChunk: number;
  private readonly backoff: Backoff;
  private readonly connectTimeoutMs: number;
  private readonly maxWriteQueue: number;
  private readonly idleMs: number;
  private readonly log: Log;
  private readonly entries: Entry[];
  private readonly byId = new Map<string, Entry>();
  private readonly totals = { framesSent: 0, refused: 0, connects: 0, disconnects: 0 };
  /** Counters of connections that ended, so that stats() keeps them. */
  private readonly pastCounters = newFramingCounters();
  private noble: NobleApi | undefined;
  private onFrame: ((frame: Uint8Array, address: string) => void) | undefined;
  private scanning = false;
  private closed = false;
  /** Puts the console back: noble prints its warnings there, so while it runs they go into the log. */
  private releaseConsole: (() => void) | undefined;

  constructor(private readonly options: BleLinkOptions) {
    if (options.peripherals.length === 0) throw new Error("ble: list at least one peripheral (name or address)");
    for (const p of options.peripherals) {
      if (!p.name && !p.address) throw new Error("ble: each peripheral needs a name or an address");
    }
    this.framing = options.framing ?? "slip";
    this.mtu = options.mtu ?? 512;
    this.writeChunk = options.writeChunk ?? 20;
    this.backoff = options.reconnect ?? DEFAULT_BLE_RECONNECT;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.maxWriteQueue = options.maxWriteQueue ?? 16_384;
    this.idleMs = options.rawIdleTimeoutMs ?? 500;
    this.log = options.log ?? silentLog;
    this.entries = options.peripherals.map((match) => ({
      match,
      peripheral: undefined,
      connection: undefined,
      connecting: false,
      timer: undefined,
      lastDelay: undefined,
      attempts: 0,
      onDisconnect: undefined,
    }));
  }

  stats(): BleLinkStats {
    const counters = { ...this.pastCounters };
    for (const entry of this.entries) {
      const c = entry.connection?.framer.counters;
      if (!c) continue;
      counters.frames += c.frames;
      counters.garbageOctets += c.garbageOctets;
      counters.badCrc += c.badCrc;
      counters.oversize += c.oversize;
      counters.malformed += c.malformed;
    }
    return { ...counters, ...this.totals, connected: this.entries.filter((e) => e.connection).length };
  }

  /** Ids of the peripherals connected now: the addresses send() accepts. */
  connectedAddresses(): string[] {
    return this.entries.flatMap((e) => (e.connection && e.peripheral ? [e.peripheral.id] : []));
  }

  async open(onFrame: (frame: Uint8Array, address: string) => void): Promise<void> {
    if (this.onFrame) throw new Error("ble link is already open");
    if (this.options.noble === undefined) this.releaseConsole ??= captureConsole(this.log);
    try {
      this.noble = this.options.noble ?? (await loadNoble());
    } catch (err) {
      this.releaseConsole?.();
      this.releaseConsole = undefined;
      throw err;
    }
    this.onFrame = onFrame;
    this.closed = false;
    this.noble.on("stateChange", this.onStateChange);
    this.noble.on("discover", this.onDiscover);
    if (this.noble.state === "poweredOn") this.startScanning();
    else this.log.info("ble-waiting-for-adapter", { state: this.noble.state });
  }

  send(address: string, frame: Uint8Array): boolean {
    const entry = this.byId.get(address);
    if (!entry) return this.refuse("unknown address", { address });
    return this.enqueue(entry, frame);
  }

  broadcast(frame: Uint8Array): void {
    for (const entry of this.entries) if (entry.connection) this.enqueue(entry, frame);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onFrame = undefined;
    const noble = this.noble;
    if (noble) {
      noble.removeListener("stateChange", this.onStateChange);
      noble.removeListener("discover", this.onDiscover);
      if (this.scanning) noble.stopScanning();
      this.scanning = false;
    }
    await Promise.all(this.entries.map((entry) => this.release(entry)));
    this.releaseConsole?.();
    this.releaseConsole = undefined;
  }

  private readonly onStateChange = (state: string): void => {
    this.log.info("ble-adapter", { state });
    if (state === "poweredOn") this.startScanning();
    else this.scanning = false;
  };

  private readonly onDiscover = (peripheral: PeripheralApi): void => {
    if (this.closed) return;
    const entry = this.entries.find((e) => e.peripheral === undefined && this.matches(e.match, peripheral));
    if (!entry) return;
    entry.peripheral = peripheral;
    this.byId.set(peripheral.id, entry);
    this.log.info("ble-found", {
      id: peripheral.id,
      address: peripheral.address,
      name: peripheral.advertisement.localName,
    });
    if (this.entries.every((e) => e.peripheral)) this.stopScanning();
    this.connect(entry);
  };

  private matches(match: BlePeripheralMatch, p: PeripheralApi): boolean {
    if (match.address !== undefined) {
      const want = normaliseAddress(match.address);
      if (want !== normaliseAddress(p.address) && want !== normaliseAddress(p.id)) return false;
    }
    if (match.name !== undefined && match.name !== p.advertisement.localName) return false;
    return true;
  }

  private startScanning(): void {
    const noble = this.noble;
    if (!noble || this.closed || this.scanning || this.entries.every((e) => e.peripheral)) return;
    this.scanning = true;
    noble.startScanning([NUS_SERVICE], false, (error) => {
      if (error) {
        this.scanning = false;
        this.log.error("ble-scan-failed", {
          error: error.message,
          hint: "check that the adapter is up and node may use it",
        });
      }
    });
  }

  private stopScanning(): void {
    if (!this.scanning) return;
    this.scanning = false;
    this.noble?.stopScanning();
  }

  private connect(entry: Entry): void {
    const peripheral = entry.peripheral;
    if (!peripheral || this.closed || entry.connecting || entry.connection) return;
    entry.connecting = true;
    let settled = false;
    const fail = (stage: string, error: Error | null | undefined) => {
      if (settled) return;
      settled = true;
      entry.connecting = false;
      clearTimeout(timeout);
      if (this.closed) return;
      entry.attempts++;
      if (worthLogging(entry.attempts)) {
        this.log.warn("ble-connect-failed", {
          id: peripheral.id,
          stage,
          attempt: entry.attempts,
          error: error?.message,
        });
      }
      if (peripheral.state === "connecting" && peripheral.cancelConnect) peripheral.cancelConnect();
      else peripheral.disconnect();
      this.scheduleReconnect(entry);
    };
    const timeout = setTimeout(
      () => fail("timeout", new Error(`no connection within ${this.connectTimeoutMs} ms`)),
      this.connectTimeoutMs,
    );
    peripheral.connect((error) => {
      if (settled) return;
      if (error) return fail("connect", error);
      peripheral.discoverSomeServicesAndCharacteristics(
        [NUS_SERVICE],
        [NUS_RX, NUS_TX],
        (err, _services, characteristics) => {
          if (settled) return;
          if (err) return fail("discover", err);
          const rx = characteristics.find((c) => c.uuid === NUS_RX);
          const tx = characteristics.find((c) => c.uuid === NUS_TX);
          if (!rx || !tx)
            return fail("discover", new Error("the peripheral lacks the Nordic UART RX or TX characteristic"));
          const framer = createFramer(this.framing, this.mtu, (message) => this.onFrame?.(message, peripheral.id));
          const connection: Connection = {
            rx,
            framer,
            withoutResponse: rx.properties.includes("writeWithoutResponse"),
            queue: [],
            queued: 0,
            writing: false,
            idleTimer: undefined,
          };
          tx.removeAllListeners("data");
          tx.on("data", (data) => this.receive(connection, data));
          tx.subscribe((subscribeError) => {
            if (settled) return;
            if (subscribeError) return fail("subscribe", subscribeError);
            settled = true;
            clearTimeout(timeout);
            entry.connecting = false;
            if (this.closed) {
              peripheral.disconnect();
              return;
            }
            entry.connection = connection;
            entry.attempts = 0;
            entry.lastDelay = undefined;
            entry.onDisconnect = (reason) => this.onPeripheralDisconnect(entry, reason);
            peripheral.once("disconnect", entry.onDisconnect);
            this.totals.connects++;
            this.log.info("ble-connected", { id: peripheral.id, address: peripheral.address });
          });
        },
      );
    });
  }

  private onPeripheralDisconnect(entry: Entry, reason: unknown): void {
    const connection = entry.connection;
    if (!connection) return;
    this.retire(entry, connection);
    this.totals.disconnects++;
    if (this.closed) return;
    this.log.warn("ble-disconnected", { id: entry.peripheral?.id, reason, hint: "reconnecting with backoff" });
    this.scheduleReconnect(entry);
  }

  private retire(entry: Entry, connection: Connection): void {
    clearTimeout(connection.idleTimer);
    const c = connection.framer.counters;
    this.pastCounters.frames += c.frames;
    this.pastCounters.garbageOctets += c.garbageOctets;
    this.pastCounters.badCrc += c.badCrc;
    this.pastCounters.oversize += c.oversize;
    this.pastCounters.malformed += c.malformed;
    entry.connection = undefined;
    if (entry.onDisconnect) entry.peripheral?.removeListener("disconnect", entry.onDisconnect);
    entry.onDisconnect = undefined;
  }

  private scheduleReconnect(entry: Entry): void {
    if (this.closed) return;
    const delay = nextDelay(this.backoff, entry.lastDelay);
    entry.lastDelay = delay;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.connect(entry), delay);
  }

  private receive(connection: Connection, data: Buffer): void {
    if (this.closed) return;
    connection.framer.push(data);
    clearTimeout(connection.idleTimer);
    if (connection.framer.pending > 0) {
      connection.idleTimer = setTimeout(() => connection.framer.expire(), this.idleMs);
      connection.idleTimer.unref();
    }
  }

  private enqueue(entry: Entry, frame: Uint8Array): boolean {
    if (frame.length > this.mtu) return this.refuse("frame larger than mtu", { length: frame.length, mtu: this.mtu });
    const connection = entry.connection;
    if (this.closed || !connection) return this.refuse("peripheral not connected", { address: entry.peripheral?.id });
    const wire = connection.framer.encode(frame);
    if (connection.queued + wire.length > this.maxWriteQueue) {
      return this.refuse("write queue full", {
        address: entry.peripheral?.id,
        queued: connection.queued,
        limit: this.maxWriteQueue,
      });
    }
    for (let o = 0; o < wire.length; o += this.writeChunk) {
      connection.queue.push(wire.subarray(o, Math.min(o + this.writeChunk, wire.length)));
    }
    connection.queued += wire.length;
    this.totals.framesSent++;
    this.pump(entry, connection);
    return true;
  }

  /** One write outstanding per peripheral: chunks go out in order, each after the previous one was accepted. */
  private pump(entry: Entry, connection: Connection): void {
    if (connection.writing || entry.connection !== connection) return;
    const chunk = connection.queue.shift();
    if (!chunk) return;
    connection.writing = true;
    connection.rx.write(Buffer.from(chunk), connection.withoutResponse, (error) => {
      connection.writing = false;
      connection.queued -= chunk.length;
      if (error) {
        this.log.warn("ble-write-failed", { id: entry.peripheral?.id, error: error.message });
        connection.queue.length = 0;
        connection.queued = 0;
        return;
      }
      this.pump(entry, connection);
    });
  }

  private refuse(reason: string, fields: Record<string, unknown>): boolean {
    this.totals.refused++;
    this.log.warn("ble-send-refused", { reason, ...fields });
    return false;
  }

  private async release(entry: Entry): Promise<void> {
    clearTimeout(entry.timer);
    const peripheral = entry.peripheral;
    const connection = entry.connection;
    if (connection) this.retire(entry, connection);
    entry.connecting = false;
    if (peripheral && (connection || peripheral.state === "connected" || peripheral.state === "connecting")) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        peripheral.disconnect(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
