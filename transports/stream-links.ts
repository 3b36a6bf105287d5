import { BleLink, type BlePeripheralMatch } from "./ble/ble-link";
import type { Link, Log } from "./link";
import type { Framing } from "./serial/framing";
import { SerialLink } from "./serial/serial-link";

export interface SerialPortSpec {
  path: string;
  baudRate: number;
  framing: Framing;
  /** Largest frame on this port; default: the gateway's largest message plus room for a forwarder header. */
  mtu?: number;
}

export interface BleSpec {
  /** Peripherals to serve; none = BLE off (noble is then never loaded). */
  peripherals: BlePeripheralMatch[];
  framing: Framing;
}

/** Octets added to the largest message for an Encapsulated header (§5.5: Length, MsgType, Ctrl, node id). */
export const FORWARDER_HEADER_ROOM = 32;

/** The serial and BLE links a gateway config asks for, built but not opened. */
export function streamLinks(serial: SerialPortSpec[], ble: BleSpec, maxMessageSize: number, log: Log): Link[] {
  const mtu = Math.min(maxMessageSize + FORWARDER_HEADER_ROOM, 65535);
  const links: Link[] = serial.map(
    (spec) =>
      new SerialLink({ path: spec.path, baudRate: spec.baudRate, framing: spec.framing, mtu: spec.mtu ?? mtu, log }),
  );
  if (ble.peripherals.length > 0)
    links.push(new BleLink({ peripherals: ble.peripherals, framing: ble.framing, mtu, log }));
  return links;
}
