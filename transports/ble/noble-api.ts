/**
 * The part of the noble central API (@stoprocent/noble, the maintained fork; the callback style that
 * every noble fork shares) that BleLink uses. The real module satisfies it; the tests use an in-memory
 * stand-in of the same shape.
 */
export interface NobleApi {
  readonly state: string;
  on(event: "stateChange", listener: (state: string) => void): unknown;
  on(event: "discover", listener: (peripheral: PeripheralApi) => void): unknown;
  removeListener(event: "stateChange", listener: (state: string) => void): unknown;
  removeListener(event: "discover", listener: (peripheral: PeripheralApi) => void): unknown;
  startScanning(serviceUuids: string[], allowDuplicates: boolean, callback?: (error?: Error | null) => void): void;
  stopScanning(callback?: () => void): void;
}

export interface PeripheralApi {
  /** noble's id: on Linux the address without colons, on macOS a system UUID. */
  readonly id: string;
  readonly address: string;
  readonly state: string;
  readonly advertisement: { localName?: string | undefined; serviceUuids?: string[] | undefined };
  connect(callback: (error?: Error | null) => void): void;
  disconnect(callback?: () => void): void;
  /** Abandons a connection attempt still pending (noble: only while state is "connecting"). */
  cancelConnect?(): void;
  once(event: "disconnect", listener: (reason?: unknown) => void): unknown;
  removeListener(event: "disconnect", listener: (reason?: unknown) => void): unknown;
  discoverSomeServicesAndCharacteristics(
    serviceUuids: string[],
    characteristicUuids: string[],
    callback: (error: Error | null | undefined, services: unknown[], characteristics: CharacteristicApi[]) => void,
  ): void;
}

export interface CharacteristicApi {
  readonly uuid: string;
  readonly properties: string[];
  write(data: Buffer, withoutResponse: boolean, callback?: (error?: Error | null) => void): void;
  subscribe(callback?: (error?: Error | null) => void): void;
  on(event: "data", listener: (data: Buffer, isNotification: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** Nordic UART Service, as noble spells UUIDs (lower case, no dashes). */
export const NUS_SERVICE = "6e400001b5a3f393e0a9e50e24dcca9e";
/** Written by the central (the gateway) toward the peripheral. */
export const NUS_RX = "6e400002b5a3f393e0a9e50e24dcca9e";
/** Notified by the peripheral toward the central. */
export const NUS_TX = "6e400003b5a3f393e0a9e50e24dcca9e";

export const NOBLE_PACKAGE = "@stoprocent/noble";

/**
 * Loads noble only when BLE is configured, so that a gateway without BLE never needs its native binding.
 * Throws an error telling the user what to install when it cannot load.
 */
export async function loadNoble(name: string = NOBLE_PACKAGE): Promise<NobleApi> {
  try {
    const mod = (await import(name)) as { default?: unknown };
    return (mod.default ?? mod) as NobleApi;
  } catch (error) {
    throw new Error(
      `BLE is configured but ${name} did not load (${(error as Error).message}). ` +
        `Install it with "npm install ${name}" (it ships prebuilt binaries for Linux x64/arm/arm64); ` +
        `on Linux, let node use the adapter without root: ` +
        `sudo setcap cap_net_raw,cap_net_admin+eip "$(readlink -f "$(command -v node)")". See hardware/raspberry-pi.md.`,
      { cause: error },
    );
  }
}
