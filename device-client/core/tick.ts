import type { ClientCore } from "./state";
import { searchTick, start } from "./discovery";
import { retransmit, sendBusy } from "./exchanges";
import { keepAlive, wake } from "./ping";
import { connected, controlFailed, lost, transmitControl } from "./session";
import { ClientState } from "./types";

/**
 * The one time loop: state deadlines, the gateway's advertised lifetime, retransmissions (§6.13),
 * keep-alive, and handler.ready() once a busy transport is free again.
 */
export function tick(c: ClientCore, now: number): void {
  c.now = now;
  const state = c.state;
  if (state === ClientState.Searching && now >= c.stateDeadline) {
    searchTick(c);
  } else if (state === ClientState.Lost && now >= c.stateDeadline) {
    start(c, now);
  } else if (state === ClientState.Asleep && now >= c.stateDeadline) {
    wake(c);
  }
  if (c.advertiseDeadline > 0 && now > c.advertiseDeadline && connected(c)) {
    // §6.1: N_ADV ADVERTISEs missed: the gateway is gone.
    lost(c);
    return;
  }
  if (c.controlType !== 0 && now >= c.controlDeadline) {
    if (c.controlRetries >= c.options.maxRetries) {
      controlFailed(c);
      return;
    }
    c.controlRetries++;
    c.controlDeadline = now + c.options.retryInterval;
    transmitControl(c);
  }
  for (let s = 0; s < c.slots; s++) {
    if (c.slotType[s] !== 0 && c.slotWaiting[s] === 0 && now >= (c.slotDeadline[s] as number)) {
      if ((c.slotRetries[s] as number) >= c.options.maxRetries) {
        // §6.13: N_RETRY retransmissions unanswered: the gateway is lost.
        lost(c);
        return;
      }
      retransmit(c, s);
    }
  }
  keepAlive(c, now);
  if (c.sendWaiting && !sendBusy(c)) {
    c.sendWaiting = false;
    if (c.handler.ready !== undefined) {
      c.handler.ready();
    }
  }
}
