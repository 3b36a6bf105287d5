import type { DtlsReport, LinkReport } from "./links";
import type { Define, Sample } from "./metric-types";

/** One series per DTLS link and value of `label`, read from its report. */
function perDtls(
  links: () => LinkReport[],
  label: string,
  values: Record<string, (d: DtlsReport) => number>,
): () => Sample[] {
  return () =>
    links().flatMap((l) => {
      const d = l.dtls;
      if (d === undefined) return [];
      return Object.entries(values).map(([value, read]): Sample => [
        { link: l.name, kind: l.kind, [label]: value },
        read(d),
      ]);
    });
}

/** DTLS links' own metrics: the peer table (dtls.maxPeers), and what the link dropped or refused, by reason. */
export function dtlsMetrics(gauge: Define, counter: Define, links: () => LinkReport[]): void {
  const labels = ["link", "kind"];
  gauge(
    "mqttsn_dtls_peers",
    "DTLS: peers in the link's bounded table, by state: handshake (under way) or established",
    [...labels, "state"],
    perDtls(links, "state", { handshake: (d) => d.handshaking, established: (d) => d.established }),
  );
  gauge(
    "mqttsn_dtls_peers_limit",
    "DTLS: the peer table's bound (dtls.maxPeers); a ClientHello beyond it is refused",
    labels,
    () =>
      links().flatMap((l): Sample[] =>
        l.dtls === undefined ? [] : [[{ link: l.name, kind: l.kind }, l.dtls.peerLimit]],
      ),
  );
  counter(
    "mqttsn_dtls_datagrams_dropped_total",
    "DTLS: datagrams dropped by reason: plaintext (not a DTLS record), unknown_peer (a record other than a ClientHello from an address without a session), replayed (an application-data record seen before or too old)",
    [...labels, "reason"],
    perDtls(links, "reason", {
      plaintext: (d) => d.droppedPlaintext,
      unknown_peer: (d) => d.droppedUnknownPeer,
      replayed: (d) => d.droppedReplayed,
    }),
  );
  counter(
    "mqttsn_dtls_hello_verify_requests_total",
    "DTLS: ClientHellos without a valid cookie, answered with a HelloVerifyRequest and nothing kept (RFC 6347 §4.2.1)",
    labels,
    () =>
      links().flatMap((l): Sample[] =>
        l.dtls === undefined ? [] : [[{ link: l.name, kind: l.kind }, l.dtls.helloVerifyRequests]],
      ),
  );
  counter(
    "mqttsn_dtls_handshakes_refused_total",
    "DTLS: handshakes refused by reason: table_full (a ClientHello with a valid cookie found the peer table holding dtls.maxPeers), certificate (the client certificate was missing, untrusted or not proven), finished (the client's Finished did not match the handshake)",
    [...labels, "reason"],
    perDtls(links, "reason", {
      table_full: (d) => d.refusedTableFull,
      certificate: (d) => d.refusedCertificate,
      finished: (d) => d.refusedFinished,
    }),
  );
  counter(
    "mqttsn_dtls_peers_expired_total",
    "DTLS: peers dropped for a handshake unfinished within dtls.handshakeTimeoutMs or idleness beyond dtls.idleTimeoutS",
    labels,
    () =>
      links().flatMap((l): Sample[] =>
        l.dtls === undefined ? [] : [[{ link: l.name, kind: l.kind }, l.dtls.expired]],
      ),
  );
}
