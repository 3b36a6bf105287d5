import type { Bytes } from "../../protocol";
import type { Link } from "../../transports/link";
import { withoutPassword } from "../log";
import type { Shell } from "../shell/context";
import type { DeviceEntry, GatewayView } from "./view";

function hex(nodeId: Bytes): string {
  let out = "";
  for (let i = 0; i < nodeId.length; i++) out += ((nodeId[i] as number) + 0x100).toString(16).slice(1);
  return out;
}

/** The read-only view of a running gateway's shell that the HTTP listener serves. */
export function viewOfShell(shell: Shell, links: readonly Link[], brokerUrl: string, startedAt: number): GatewayView {
  return {
    startedAt,
    now: shell.now,
    counters: shell.counters,
    config: () => shell.config,
    *devices(): Iterable<DeviceEntry> {
      for (const table of shell.byLink.values())
        for (const c of table.values())
          yield {
            session: c.session,
            link: c.link.name,
            address: c.nodeId === undefined ? c.address : `${c.address}|${hex(c.nodeId)}`,
          };
      // Ended CleanSession 0 sessions kept with messages for their next CONNECT: the route key says where they were.
      for (const session of shell.ended.values()) {
        const space = session.key.indexOf(" ");
        yield { session, link: session.key.slice(0, space), address: session.key.slice(space + 1) };
      }
    },
    deviceCount: () => shell.clientCount + shell.ended.size,
    links,
    brokerUrl: String(withoutPassword(brokerUrl)),
    brokerStatus: () => shell.upstream.brokerStatus?.() ?? "unknown",
    upstreamStates: () => shell.upstream.connectionStates?.(),
    aggregating: () => shell.upstream.aggregatingFigures?.(),
    storeCounters: () => shell.store?.counters,
  };
}
