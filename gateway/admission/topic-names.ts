import { isTopicName } from "../../protocol";
import type { Log } from "../../transports/link";
import type { AdmissionCounters } from "./counters";

/**
 * True when `topic` must be refused as a topic name (MQTT 3.1.1 §4.7.1: '+' and '#' only in filters);
 * the refusal is counted (topicNamesRefused) and logged. The caller answers it, or drops it.
 */
export function refusesTopicName(
  topic: string,
  counters: AdmissionCounters,
  log: Log,
  fields: Record<string, unknown>,
): boolean {
  if (isTopicName(topic)) return false;
  counters.topicNamesRefused++;
  log.warn("topic-name-refused", { ...fields, topic, reason: "'+' and '#' are only allowed in topic filters" });
  return true;
}
