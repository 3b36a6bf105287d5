import { MsgType } from "../../protocol/index";
import type { ClientCore } from "./state";
import { busySlots, failAll, setState } from "./exchanges";
import { lost, sendControl } from "./session";
import { ClientState } from "./types";

/** PINGREQ keep-alive (§6.15), the sleep cycle (§6.14) and DISCONNECT (§6.6). */

export function keepAlive(c: ClientCore, now: number): void {
  const period = c.options.keepAlive * 1000;
  if (c.state === ClientState.Active && period > 0 && c.controlType === 0 && now - c.lastSent >= period) {
    sendControl(c, MsgType.PingReq);
  }
}

/** §6.14: a sleeping client wakes with PINGREQ to take the messages the gateway buffered. */
export function wake(c: ClientCore): void {
  setState(c, ClientState.Awake);
  sendControl(c, MsgType.PingReq);
}

export function disconnect(c: ClientCore): boolean {
  if (c.state === ClientState.Disconnected || c.state === ClientState.Disconnecting) {
    return false;
  }
  if (c.state === ClientState.Searching || c.state === ClientState.Lost) {
    failAll(c);
    setState(c, ClientState.Disconnected);
    return true;
  }
  c.sleepDuration = 0;
  setState(c, ClientState.Disconnecting);
  sendControl(c, MsgType.Disconnect);
  return true;
}

export function sleep(c: ClientCore, duration: number): boolean {
  if (c.state !== ClientState.Active || c.controlType !== 0 || busySlots(c) > 0 || duration < 1) {
    return false;
  }
  c.sleepDuration = duration;
  sendControl(c, MsgType.Disconnect);
  return true;
}

export function onPingResp(c: ClientCore): void {
  if (c.controlType !== MsgType.PingReq) {
    c.dropped++;
    return;
  }
  c.controlType = 0;
  if (c.state === ClientState.Awake) {
    // §6.14: PINGRESP ends the awake window: back to sleep for another duration.
    c.stateDeadline = c.now + c.sleepDuration * 1000;
    setState(c, ClientState.Asleep);
  }
}

export function onDisconnect(c: ClientCore): void {
  if (c.controlType !== MsgType.Disconnect) {
    // The gateway ended the session on its own: start again.
    lost(c);
    return;
  }
  c.controlType = 0;
  if (c.state === ClientState.Disconnecting) {
    failAll(c);
    setState(c, ClientState.Disconnected);
  } else {
    c.stateDeadline = c.now + c.sleepDuration * 1000;
    setState(c, ClientState.Asleep);
  }
}
