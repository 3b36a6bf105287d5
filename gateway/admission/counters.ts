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

export function newAdmissionCounters(): AdmissionCounters {
  return { topicNamesRefused: 0, connectRateRefusals: 0, handshakeRefusals: 0, sourcesForgotten: 0 };
}
