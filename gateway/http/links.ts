import { BleLink } from "../../transports/ble/ble-link";
import { DtlsLink } from "../../transports/dtls";
import type { Link } from "../../transports/link";
import { SerialLink } from "../../transports/serial/serial-link";
import { UdpLink } from "../../transports/udp";

/** Why a link dropped a frame it received. */
export type FrameDropReason = "oversize" | "bad_crc" | "malformed";

/** DTLS: the bounded peer table, and what the link dropped or refused before a frame reached the gateway. */
export interface DtlsReport {
  /** Peers in the table whose handshake is under way, and those with an established session. */
  handshaking: number;
  established: number;
  /** The table's bound (dtls.maxPeers). */
  peerLimit: number;
  /** Datagrams dropped: not DTLS records, records from an address without a session, replayed records. */
  droppedPlaintext: number;
  droppedUnknownPeer: number;
  droppedReplayed: number;
  /** ClientHellos without a valid cookie, answered with a HelloVerifyRequest and nothing kept (RFC 6347 §4.2.1). */
  helloVerifyRequests: number;
  /** Handshakes refused: the peer table was full; the client certificate was missing, untrusted or not proven. */
  refusedTableFull: number;
  refusedCertificate: number;
  /** Handshakes refused because the client's Finished did not match the handshake. */
  refusedFinished: number;
  /** Peers dropped for an unfinished handshake or idleness. */
  expired: number;
}

/** One link's counters, the same shape for UDP, DTLS, serial and BLE (fields a kind does not have are absent). */
export interface LinkReport {
  name: string;
  kind: "udp" | "dtls" | "serial" | "ble" | "other";
  /** UDP and DTLS: the address bound, e.g. "127.0.0.1:40123" for a listener configured on port 0. */
  bound?: string;
  /** UDP and DTLS: the socket is bound; serial: the port is open; BLE: at least one peripheral is connected. */
  up: boolean | undefined;
  framesReceived: number;
  framesSent: number;
  /** send() calls the link refused (too large, link down, unknown address, write queue full). */
  sendRefused: number;
  dropped: Record<FrameDropReason, number>;
  /** Serial and BLE: octets outside any frame. */
  garbageOctets?: number;
  /** Serial: times the port was lost, and opened again after a loss. */
  lost?: number;
  reopened?: number;
  /** BLE: connections made and ended, peripherals connected now. */
  connects?: number;
  disconnects?: number;
  connected?: number;
  dtls?: DtlsReport;
}

/** The counters of one link, read now. */
export function linkReport(link: Link): LinkReport {
  if (link instanceof UdpLink) {
    const s = link.stats();
    return {
      name: link.name,
      kind: "udp",
      bound: link.address(),
      up: s.up,
      framesReceived: s.framesReceived,
      framesSent: s.framesSent,
      sendRefused: s.refused,
      dropped: { oversize: s.droppedOversize, bad_crc: 0, malformed: 0 },
    };
  }
  if (link instanceof DtlsLink) {
    const s = link.stats();
    return {
      name: link.name,
      kind: "dtls",
      bound: link.address(),
      up: s.up,
      framesReceived: s.framesReceived,
      framesSent: s.framesSent,
      sendRefused: s.refused,
      dropped: { oversize: s.droppedOversize, bad_crc: 0, malformed: 0 },
      dtls: {
        handshaking: s.peers - s.established,
        established: s.established,
        peerLimit: s.peerLimit,
        droppedPlaintext: s.droppedPlaintext,
        droppedUnknownPeer: s.droppedUnknownPeer,
        droppedReplayed: s.droppedReplay,
        helloVerifyRequests: s.helloVerifyRequests,
        refusedTableFull: s.refusedTableFull,
        refusedCertificate: s.refusedCertificate,
        refusedFinished: s.refusedFinished,
        expired: s.expired,
      },
    };
  }
  if (link instanceof SerialLink) {
    const s = link.stats();
    return {
      name: link.name,
      kind: "serial",
      up: s.up,
      framesReceived: s.frames,
      framesSent: s.framesSent,
      sendRefused: s.refused,
      dropped: { oversize: s.oversize, bad_crc: s.badCrc, malformed: s.malformed },
      garbageOctets: s.garbageOctets,
      lost: s.lost,
      reopened: s.reopened,
    };
  }
  if (link instanceof BleLink) {
    const s = link.stats();
    return {
      name: link.name,
      kind: "ble",
      up: s.connected > 0,
      framesReceived: s.frames,
      framesSent: s.framesSent,
      sendRefused: s.refused,
      dropped: { oversize: s.oversize, bad_crc: s.badCrc, malformed: s.malformed },
      garbageOctets: s.garbageOctets,
      connects: s.connects,
      disconnects: s.disconnects,
      connected: s.connected,
    };
  }
  return {
    name: link.name,
    kind: "other",
    up: undefined,
    framesReceived: 0,
    framesSent: 0,
    sendRefused: 0,
    dropped: { oversize: 0, bad_crc: 0, malformed: 0 },
  };
}
