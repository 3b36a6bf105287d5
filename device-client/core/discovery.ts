import { encode } from "../../protocol/index";
import type { ClientCore } from "./state";
import { connectNow } from "./connect";
import { failAll, setState } from "./exchanges";
import { ClientState } from "./types";

/** Gateway discovery (§6.1): SEARCHGW, GWINFO, ADVERTISE and the gateway's advertised lifetime. */

/** Starts (or restarts) the session: discovery, or CONNECT to the configured gateway. */
export function start(c: ClientCore, now: number): void {
  c.now = now;
  failAll(c);
  c.controlType = 0;
  if (c.options.searchGateway) {
    c.gwId = -1;
    c.advertiseDeadline = 0;
    c.searches = 0;
    // §6.1: a random delay before SEARCHGW keeps clients woken together from broadcasting together.
    c.stateDeadline = now + Math.floor(c.options.random() * c.options.searchDelay);
    setState(c, ClientState.Searching);
  } else {
    c.gwId = -1;
    c.transport.selectGateway(-1);
    connectNow(c);
  }
}

export function searchTick(c: ClientCore): void {
  if (c.searches >= c.options.maxRetries && c.options.hasConfiguredGateway) {
    c.transport.selectGateway(-1);
    connectNow(c);
    return;
  }
  c.searches++;
  c.stateDeadline = c.now + c.options.retryInterval;
  c.mSearchGw.radius = c.options.radius;
  c.transport.broadcast(c.tx, encode(c.mSearchGw, c.tx, 0), c.options.radius);
}

export function onAdvertise(c: ClientCore, gwId: number, duration: number, fromGateway: boolean): void {
  const deadline = c.now + duration * 1000 * c.options.advertiseMisses + c.options.retryInterval;
  if (c.state === ClientState.Searching) {
    c.gwId = gwId;
    c.transport.selectGateway(gwId);
    c.advertiseDeadline = deadline;
    connectNow(c);
  } else if (fromGateway && gwId === c.gwId) {
    c.advertiseDeadline = deadline;
  }
}

export function onGwInfo(c: ClientCore, gwId: number): void {
  if (c.state !== ClientState.Searching) {
    return;
  }
  c.gwId = gwId;
  c.transport.selectGateway(gwId);
  c.advertiseDeadline = 0;
  connectNow(c);
}
