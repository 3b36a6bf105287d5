import { linkReport } from "./links";
import type { GatewayView } from "./view";

/** The /healthz answer: 200 with ok true, or 503 with what is wrong in `problems`. */
export interface Health {
  ok: boolean;
  /** Listener name → "up" or "down": UDP and DTLS sockets and serial ports (BLE peripherals come and go, and are not counted). */
  listeners: Record<string, "up" | "down">;
  broker: { url: string; status: string };
  problems: string[];
}

/**
 * Healthy when every UDP and DTLS listener is bound, every serial port is open and the broker answers the gateway's
 * own connection. Anything else (a broker not yet reached after start included) is unhealthy.
 */
export function healthOf(view: GatewayView): Health {
  const listeners: Record<string, "up" | "down"> = {};
  const problems: string[] = [];
  for (const link of view.links) {
    const report = linkReport(link);
    if (report.kind !== "udp" && report.kind !== "dtls" && report.kind !== "serial") continue;
    listeners[report.name] = report.up === true ? "up" : "down";
    if (report.up !== true) problems.push(`${report.name} is down`);
  }
  const status = view.brokerStatus();
  if (status !== "reachable") problems.push(`broker ${status}`);
  return { ok: problems.length === 0, listeners, broker: { url: view.brokerUrl, status }, problems };
}
