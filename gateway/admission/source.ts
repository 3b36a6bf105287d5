import { parseHostPort } from "../../transports/udp";

/**
 * The source a client's datagrams come from, for limits per source: the link plus the host part of the
 * address, so every port of one host is one source ("udp:0.0.0.0:1884 10.0.0.7", IPv6 and DTLS likewise). A serial
 * or BLE address is taken as it is. Behind a forwarder (§5.5) the address is the forwarder's, so all the
 * clients it relays are one source.
 */
export function sourceOf(linkName: string, address: string): string {
  const ip = linkName.startsWith("udp:") || linkName.startsWith("dtls:");
  const udp = ip ? parseHostPort(address) : undefined;
  return `${linkName} ${udp !== undefined ? udp.host : address}`;
}
