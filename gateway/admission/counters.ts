/** What the admission rules refused, per gateway. */
export interface AdmissionCounters {
  /** PUBLISH (any QoS, QoS -1 included) or REGISTER whose topic name holds '+' or '#'. */
  topicNamesRefused: number;
  /** CONNECTs refused because their source spent limits.maxConnectsPerSecondPerSource. */
  connectRateRefusals: number;
  /** CONNECTs refused because their source had limits.maxHandshakesPerSource handshakes under way. */
  handshakeRefusals: number;
  /** Sources whose rate history was forgotten because the table of sources was full. */
  sourcesForgotten: number;
}

const byGateway = new WeakMap<object, AdmissionCounters>();

/**
 * The admission counters of the gateway whose Counters object is `counters` (RunningGateway.counters, the
 * shell's and the session context's: one object per gateway), created at zero on first use.
 */
export function admissionCounters(counters: object): AdmissionCounters {
  let found = byGateway.get(counters);
  if (found === undefined) {
    found = { topicNamesRefused: 0, connectRateRefusals: 0, handshakeRefusals: 0, sourcesForgotten: 0 };
    byGateway.set(counters, found);
  }
  return found;
}
