import { MsgType, type Message } from "../../protocol";

/** §6.1: ADVERTISE carries the gateway id and the seconds until the next one. */
export function advertise(gwId: number, intervalS: number): Message {
  return { type: MsgType.Advertise, gwId, duration: intervalS };
}

/**
 * §6.1: SEARCHGW is answered with GWINFO. The gateway answers the searcher directly (unicast on its
 * link) rather than broadcasting: every client on an IP network can receive it that way.
 */
export function gwInfo(gwId: number): Message {
  return { type: MsgType.GwInfo, gwId, gwAdd: [] };
}
