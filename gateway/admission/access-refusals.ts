import type { Log } from "../../transports/link";
import { mayPublish, maySubscribe, type AccessGrant } from "../access/decide";
import type { AdmissionCounters } from "./counters";

/**
 * True when the client's access grant does not cover publishing to `topic` (REGISTER or PUBLISH of any kind);
 * the refusal is counted (accessPublishRefusals) and logged. The caller answers 0x03 (not supported), or drops it.
 */
export function refusesPublish(
  grant: AccessGrant | undefined,
  topic: string,
  counters: AdmissionCounters,
  log: Log,
  fields: Record<string, unknown>,
): boolean {
  if (mayPublish(grant, topic)) return false;
  counters.accessPublishRefusals++;
  log.warn("access-refused", { ...fields, topic, reason: "outside the publish filters of its access entry" });
  return true;
}

/** As refusesPublish, for a SUBSCRIBE filter against the grant's subscribe filters (accessSubscribeRefusals). */
export function refusesSubscribe(
  grant: AccessGrant | undefined,
  filter: string,
  counters: AdmissionCounters,
  log: Log,
  fields: Record<string, unknown>,
): boolean {
  if (maySubscribe(grant, filter)) return false;
  counters.accessSubscribeRefusals++;
  log.warn("access-refused", { ...fields, topic: filter, reason: "outside the subscribe filters of its access entry" });
  return true;
}
