/**
 * The source a client's datagrams come from, for limits per source: the link plus the host part of the
 * address, so every port of one host is one source ("udp:0.0.0.0:1884 10.0.0.7", IPv6 and DTLS likewise). A serial
 * or BLE address is taken as it is. Behind a forwarder (§5.5) the address is the forwarder's, so all the
 * clients it relays are one source.
 */
export function sourceOf(linkName: string, address: string): string {
  const ip = linkName.startsWith("udp:") || linkName.startsWith("dtls:");
  return `${linkName} ${ip ? hostOf(address) : address}`;
}

/** "10.0.0.7:5000" → "10.0.0.7", "[::1]:5000" → "::1": the address as its link formats it, read once per datagram. */
function hostOf(address: string): string {
  const colon = address.lastIndexOf(":");
  if (colon <= 0) return address;
  return address.startsWith("[") && address[colon - 1] === "]" ? address.slice(1, colon - 1) : address.slice(0, colon);
}
