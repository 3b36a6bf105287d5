import { encode, MsgType } from "../../protocol/index";
import type { ClientCore } from "./state";
import { failAll, sendTx, setState } from "./exchanges";
import { ClientState } from "./types";

/** The connection-level request (CONNECT, PINGREQ or DISCONNECT): one retry record, and losing the gateway. */

export function connected(c: ClientCore): boolean {
  const s = c.state;
  return s === ClientState.Active || s === ClientState.Connecting || s === ClientState.Awake;
}

export function transmitControl(c: ClientCore): void {
  const type = c.controlType;
  let n: number;
  if (type === MsgType.Connect) {
    const m = c.mConnect;
    m.will = c.options.willTopic !== "";
    m.cleanSession = c.options.cleanSession;
    m.duration = c.options.keepAlive;
    m.clientId = c.options.clientId;
    n = encode(m, c.tx, 0);
  } else if (type === MsgType.PingReq) {
    // §6.14: a waking client names itself in PINGREQ.
    c.mPingReq.clientId = c.state === ClientState.Awake ? c.options.clientId : undefined;
    n = encode(c.mPingReq, c.tx, 0);
  } else {
    c.mDisconnect.duration = c.sleepDuration > 0 ? c.sleepDuration : undefined;
    n = encode(c.mDisconnect, c.tx, 0);
  }
  sendTx(c, n);
}

export function sendControl(c: ClientCore, type: number): void {
  c.controlType = type;
  c.controlRetries = 0;
  c.controlDeadline = c.now + c.options.retryInterval;
  transmitControl(c);
}

/** The gateway stopped answering (§6.13, §6.1): give up open exchanges, forget ids, start again later. */
export function lost(c: ClientCore): void {
  failAll(c);
  c.controlType = 0;
  c.advertiseDeadline = 0;
  c.stateDeadline = c.now + c.options.reconnectDelay;
  setState(c, ClientState.Lost);
}

export function controlFailed(c: ClientCore): void {
  c.controlType = 0;
  if (c.state === ClientState.Disconnecting) {
    failAll(c);
    setState(c, ClientState.Disconnected);
  } else {
    lost(c);
  }
}
