import type { Link } from "../../transports/link";
import { advertise } from "../handlers/discovery";
import type { SessionEvent } from "../session/types";
import type { Shell } from "./context";
import { guarded } from "./guard";
import { encodeFrame } from "./send";

/** One timer for every session deadline and the §6.1 ADVERTISE broadcast; returns its stop function. */
export function startTicking(shell: Shell, links: Link[]): () => void {
  const config = shell.config;
  const tickMs = Math.max(5, Math.min(250, Math.floor(config.timers.tRetryMs / 4)));
  const advertiseMs = config.timers.advertiseIntervalS * 1000;
  let nextAdvertise = shell.now();
  const tickEvent: SessionEvent = { kind: "tick" };
  function tick(): void {
    const t = shell.now();
    for (const table of shell.byLink.values()) {
      for (const c of table.values()) {
        if (c.session.deadline <= t) shell.run(c, tickEvent);
      }
    }
    if (advertiseMs > 0 && t >= nextAdvertise) {
      nextAdvertise = t + advertiseMs;
      for (const link of links)
        link.broadcast(encodeFrame(advertise(config.gatewayId, config.timers.advertiseIntervalS)));
    }
  }
  const guardedTick = (): void => guarded(shell, "timer", {}, tick);
  guardedTick();
  const timer = setInterval(guardedTick, tickMs);
  timer.unref();
  return () => clearInterval(timer);
}
