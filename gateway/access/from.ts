import { BlockList, isIP } from "node:net";
import { parseHostPort } from "../../transports/udp";

/**
 * Where a client may connect from: a link kind ("udp", "serial", "ble", any link's name prefix), optionally with
 * an address: a CIDR or a single IP for links with IP addresses ("udp:10.0.0.0/8", "udp:[fd00::]/8"), a device
 * path for serial ("serial:/dev/ttyUSB0"), a peripheral id or address for BLE ("ble:aa:bb:cc:dd:ee:ff").
 */
export type FromRule =
  | { kind: string; match: "any" }
  | { kind: string; match: "ip"; list: BlockList }
  | { kind: string; match: "exact"; value: string };

/** "10.0.0.0/8", "[fd00::]/8", "10.0.0.7", "[::1]" as a block list; undefined when it is none of these. */
function ipRule(text: string): BlockList | undefined {
  const slash = text.lastIndexOf("/");
  let host = slash < 0 ? text : text.slice(0, slash);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const family = isIP(host);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  const list = new BlockList();
  list.addSubnet(host, Number(prefixText), family === 4 ? "ipv4" : "ipv6");
  return list;
}

function normalised(id: string): string {
  return id.toLowerCase().replace(/[:-]/g, "");
}

/** Parses one `from` entry; undefined when it has no recognisable shape. */
export function parseFrom(text: string): FromRule | undefined {
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  if (!/^[a-z][a-z0-9]*$/.test(kind)) return undefined;
  if (colon < 0) return { kind, match: "any" };
  const rest = text.slice(colon + 1);
  if (rest.length === 0) return undefined;
  if (kind === "udp" || kind === "dtls") {
    const list = ipRule(rest);
    return list === undefined ? undefined : { kind, match: "ip", list };
  }
  if (kind === "serial") return rest.startsWith("/") ? { kind, match: "exact", value: rest } : undefined;
  return { kind, match: "exact", value: normalised(rest) };
}

/** The IP host of a client address on a link with IP addresses ("10.0.0.7:5000", "[::ffff:10.0.0.7]:5000"). */
function hostOf(address: string): { host: string; family: "ipv4" | "ipv6" } | undefined {
  const parsed = parseHostPort(address);
  if (parsed === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(parsed.host);
  const host = mapped !== null ? (mapped[1] as string) : parsed.host;
  const family = isIP(host);
  if (family === 0) return undefined;
  return { host, family: family === 4 ? "ipv4" : "ipv6" };
}

/** Whether a client at `address` on the link named `linkName` ("udp:0.0.0.0:1884", "serial:/dev/ttyUSB0") is inside `rule`. */
export function fromMatches(rule: FromRule, linkName: string, address: string): boolean {
  const colon = linkName.indexOf(":");
  const kind = colon < 0 ? linkName : linkName.slice(0, colon);
  if (kind !== rule.kind) return false;
  switch (rule.match) {
    case "any":
      return true;
    case "ip": {
      const host = hostOf(address);
      return host !== undefined && rule.list.check(host.host, host.family);
    }
    case "exact":
      return kind === "serial" ? linkName.slice(colon + 1) === rule.value : normalised(address) === rule.value;
  }
}
