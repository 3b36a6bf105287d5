import { readFileSync } from "node:fs";

/** Octets waiting in, and datagrams dropped by, the receive buffer of the UDP socket bound to 127.0.0.1:port. */
export function udpSocketStats(port: number): { queued: number; drops: number } | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let text: string;
  try {
    text = readFileSync("/proc/net/udp", "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== local) continue;
    const rx = (f[4] ?? "0:0").split(":")[1] ?? "0";
    return { queued: parseInt(rx, 16), drops: Number(f[f.length - 1]) };
  }
  return undefined;
}
