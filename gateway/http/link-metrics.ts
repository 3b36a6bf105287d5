import type { FrameDropReason, LinkReport } from "./links";
import type { Define, Sample } from "./metric-types";

const DROP_REASONS: readonly FrameDropReason[] = ["oversize", "bad_crc", "malformed"];

/** Per-link metrics, labelled with the link's name and kind (udp, dtls, serial, ble). */
export function linkMetrics(gauge: Define, counter: Define, links: () => LinkReport[]): void {
  const per = (read: (l: LinkReport) => number | undefined) => (): Sample[] =>
    links().flatMap((l): Sample[] => {
      const v = read(l);
      return v === undefined ? [] : [[{ link: l.name, kind: l.kind }, v]];
    });
  const labels = ["link", "kind"];
  gauge(
    "mqttsn_link_up",
    "1 when the link is up: UDP or DTLS socket bound, serial port open, a BLE peripheral connected",
    labels,
    per((l) => (l.up === undefined ? undefined : l.up ? 1 : 0)),
  );
  counter(
    "mqttsn_link_frames_received_total",
    "Frames a link handed to the gateway",
    labels,
    per((l) => l.framesReceived),
  );
  counter(
    "mqttsn_link_frames_sent_total",
    "Frames the gateway handed to a link",
    labels,
    per((l) => l.framesSent),
  );
  counter(
    "mqttsn_link_send_refused_total",
    "Frames a link refused to send: too large, link down, unknown address, write queue full",
    labels,
    per((l) => l.sendRefused),
  );
  counter(
    "mqttsn_link_frames_dropped_total",
    "Frames a link received and dropped, by reason: oversize (above the MTU), bad_crc and malformed (SLIP framing)",
    [...labels, "reason"],
    () =>
      links().flatMap((l) =>
        DROP_REASONS.map((reason): Sample => [{ link: l.name, kind: l.kind, reason }, l.dropped[reason]]),
      ),
  );
  counter(
    "mqttsn_link_garbage_octets_total",
    "Serial and BLE: octets outside any frame",
    labels,
    per((l) => l.garbageOctets),
  );
  counter(
    "mqttsn_serial_lost_total",
    "Serial: times the port was lost (closed by the system, unplugged)",
    labels,
    per((l) => l.lost),
  );
  counter(
    "mqttsn_serial_reopened_total",
    "Serial: times the port was opened again after a loss",
    labels,
    per((l) => l.reopened),
  );
  counter(
    "mqttsn_ble_connects_total",
    "BLE: connections to peripherals made",
    labels,
    per((l) => l.connects),
  );
  counter(
    "mqttsn_ble_disconnects_total",
    "BLE: connections to peripherals ended",
    labels,
    per((l) => l.disconnects),
  );
  gauge(
    "mqttsn_ble_peripherals_connected",
    "BLE: peripherals connected now",
    labels,
    per((l) => l.connected),
  );
}
