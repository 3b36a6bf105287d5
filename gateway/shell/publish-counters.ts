import type { QoS } from "../../protocol";
import type { Counters } from "../session/types";

/** Counts one PUBLISH: "up" from a client to the broker, "down" from the gateway to a client. */
export function countPublish(counters: Counters, direction: "up" | "down", qos: QoS): void {
  if (direction === "up") {
    if (qos === -1) counters.publishesUpQosMinusOne++;
    else if (qos === 0) counters.publishesUpQos0++;
    else if (qos === 1) counters.publishesUpQos1++;
    else counters.publishesUpQos2++;
  } else if (qos === 1) counters.publishesDownQos1++;
  else if (qos === 2) counters.publishesDownQos2++;
  else counters.publishesDownQos0++;
}
