import { EventEmitter } from "node:events";
import type { CharacteristicApi, NobleApi, PeripheralApi } from "../../../transports/ble/noble-api";
import { NUS_RX, NUS_SERVICE, NUS_TX } from "../../../transports/ble/noble-api";

/**
 * An in-memory stand-in for noble's central API, following the events and callbacks of
 * @stoprocent/noble: 'stateChange' on the adapter, 'scanStart'/'scanStop', 'discover' once per peripheral
 * per scan (allowDuplicates false), peripheral connect/disconnect with callbacks and 'connect'/'disconnect'
 * events, discoverSomeServicesAndCharacteristics filtered by UUID, fresh characteristic objects on every
 * connection, subscribe with a 'notify' event, notifications as 'data' (data, isNotification = true),
 * and write callbacks. A write longer than the ATT MTU minus 3 fails, as the radio would refuse it.
 */
export class FakeNoble extends EventEmitter implements NobleApi {
  state = "unknown";
  scanning = false;
  private readonly inAir = new Set<FakePeripheral>();
  private seenThisScan = new Set<FakePeripheral>();
  private scanFilter: string[] = [];

  setState(state: string): void {
    this.state = state;
    if (state !== "poweredOn") this.scanning = false;
    this.emit("stateChange", state);
  }

  /** The peripheral starts advertising (comes into range). */
  advertise(peripheral: FakePeripheral): void {
    this.inAir.add(peripheral);
    peripheral.inRange = true;
    if (this.scanning) setImmediate(() => this.report(peripheral));
  }

  startScanning(serviceUuids: string[], allowDuplicates: boolean, callback?: (error?: Error | null) => void): void {
    if (this.state !== "poweredOn") {
      const error = new Error(`Could not start scanning, state is ${this.state} (not poweredOn)`);
      if (callback) callback(error);
      else throw error;
      return;
    }
    if (allowDuplicates) throw new Error("FakeNoble models allowDuplicates = false only");
    this.scanning = true;
    this.scanFilter = serviceUuids;
    this.seenThisScan = new Set();
    setImmediate(() => {
      this.emit("scanStart", false);
      callback?.(null);
      for (const p of this.inAir) this.report(p);
    });
  }

  stopScanning(callback?: () => void): void {
    this.scanning = false;
    setImmediate(() => {
      this.emit("scanStop");
      callback?.();
    });
  }

  private report(p: FakePeripheral): void {
    if (!this.scanning || !p.inRange || this.seenThisScan.has(p)) return;
    const offered = p.advertisement.serviceUuids ?? [];
    if (this.scanFilter.length > 0 && !this.scanFilter.some((u) => offered.includes(u))) return;
    this.seenThisScan.add(p);
    this.emit("discover", p);
  }
}

export interface FakePeripheralOptions {
  id: string;
  address: string;
  localName?: string | undefined;
  /** Offers the Nordic UART Service. Default true. */
  uart?: boolean;
  /** ATT MTU; writes and notifications carry at most attMtu - 3 octets. Default 23. */
  attMtu?: number;
}

/** A peripheral as the central sees it, plus test-side controls: notify(), drop(), inRange, written. */
export class FakePeripheral extends EventEmitter implements PeripheralApi {
  readonly id: string;
  readonly address: string;
  state = "disconnected";
  readonly advertisement: { localName?: string | undefined; serviceUuids?: string[] | undefined };
  /** When false, connect() pends without an answer, as a real connection attempt to an absent device does. */
  inRange = false;
  readonly attMtu: number;
  /** Every chunk the central wrote to RX, in order. */
  readonly written: Buffer[] = [];
  /** Called with every chunk the central writes to RX. */
  onWrite: (data: Buffer) => void = () => undefined;
  connectCount = 0;
  /** Connection attempts waiting for the peripheral to come into range (answered only by cancelConnect). */
  private readonly pendingConnects: Array<(error?: Error | null) => void> = [];
  private tx: FakeCharacteristic | undefined;
  private readonly uart: boolean;

  constructor(options: FakePeripheralOptions) {
    super();
    this.id = options.id;
    this.address = options.address;
    this.uart = options.uart ?? true;
    this.attMtu = options.attMtu ?? 23;
    this.advertisement = { localName: options.localName, serviceUuids: this.uart ? [NUS_SERVICE] : ["180f"] };
    if (options.localName === undefined) delete this.advertisement.localName;
  }

  connect(callback: (error?: Error | null) => void): void {
    if (this.state === "connected") {
      setImmediate(() => callback(null));
      return;
    }
    this.state = "connecting";
    if (!this.inRange) {
      this.pendingConnects.push(callback);
      return;
    }
    setImmediate(() => {
      if (this.state !== "connecting") return;
      this.state = "connected";
      this.connectCount++;
      this.emit("connect", null);
      callback(null);
    });
  }

  /** Like noble: only a pending attempt is cancelled, and its connect callback gets an error. */
  cancelConnect(): void {
    if (this.state !== "connecting") return;
    this.state = "disconnected";
    this.emit("connect", new Error("connection canceled!"));
    const callbacks = this.pendingConnects.splice(0);
    for (const cb of callbacks) cb(new Error("connection canceled!"));
  }

  disconnect(callback?: () => void): void {
    const wasConnected = this.state === "connected" || this.state === "connecting";
    this.state = "disconnected";
    this.tx = undefined;
    setImmediate(() => {
      if (wasConnected) this.emit("disconnect", 0x16);
      callback?.();
    });
  }

  discoverSomeServicesAndCharacteristics(
    serviceUuids: string[],
    characteristicUuids: string[],
    callback: (error: Error | null | undefined, services: unknown[], characteristics: CharacteristicApi[]) => void,
  ): void {
    setImmediate(() => {
      if (this.state !== "connected") {
        callback(new Error("peripheral not connected"), [], []);
        return;
      }
      if (!this.uart || !serviceUuids.includes(NUS_SERVICE)) {
        callback(null, [], []);
        return;
      }
      const rx = new FakeCharacteristic(NUS_RX, ["write", "writeWithoutResponse"], this);
      const tx = new FakeCharacteristic(NUS_TX, ["notify"], this);
      this.tx = tx;
      callback(
        null,
        [{ uuid: NUS_SERVICE }],
        [rx, tx].filter((c) => characteristicUuids.includes(c.uuid)),
      );
    });
  }

  /** The peripheral sends octets to the central, split into notifications of attMtu - 3. */
  notify(octets: Uint8Array): void {
    const tx = this.tx;
    if (this.state !== "connected" || !tx?.subscribed) throw new Error(`${this.id}: not connected or not subscribed`);
    const size = this.attMtu - 3;
    for (let o = 0; o < octets.length; o += size) {
      tx.emit("data", Buffer.from(octets.subarray(o, o + size)), true);
    }
  }

  get subscribed(): boolean {
    return this.state === "connected" && this.tx?.subscribed === true;
  }

  /** The radio link drops (out of range, reset): 'disconnect' with reason 0x08, connection timeout. */
  drop(stayAway = false): void {
    if (stayAway) this.inRange = false;
    this.state = "disconnected";
    this.tx = undefined;
    this.emit("disconnect", 0x08);
  }

  receiveWrite(data: Buffer): Error | undefined {
    if (this.state !== "connected") return new Error("peripheral not connected");
    if (data.length > this.attMtu - 3)
      return new Error(`write of ${data.length} octets exceeds ATT MTU ${this.attMtu} - 3`);
    this.written.push(Buffer.from(data));
    this.onWrite(data);
    return undefined;
  }
}

class FakeCharacteristic extends EventEmitter implements CharacteristicApi {
  subscribed = false;

  constructor(
    readonly uuid: string,
    readonly properties: string[],
    private readonly peripheral: FakePeripheral,
  ) {
    super();
  }

  write(data: Buffer, withoutResponse: boolean, callback?: (error?: Error | null) => void): void {
    if (!this.properties.includes(withoutResponse ? "writeWithoutResponse" : "write")) {
      setImmediate(() => callback?.(new Error("characteristic does not allow this write")));
      return;
    }
    const error = this.peripheral.receiveWrite(data);
    setImmediate(() => {
      this.emit("write", error ?? null);
      callback?.(error ?? null);
    });
  }

  subscribe(callback?: (error?: Error | null) => void): void {
    setImmediate(() => {
      if (!this.properties.includes("notify")) {
        callback?.(new Error("characteristic does not notify"));
        return;
      }
      this.subscribed = true;
      this.emit("notify", true);
      callback?.(null);
    });
  }
}
