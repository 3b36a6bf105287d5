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
  /** Datagrams dropped unread because their source spent limits.maxDatagramsPerSecondPerSource. */
  datagramRateDropped: number;
  /** CONNECTs refused (CONNACK 0x03) under access.default "deny": no access.clients entry names the client id. */
  accessUnknownClientRefusals: number;
  /** CONNECTs refused (CONNACK 0x03): entries name the client id, but none admits its link and address (`from`). */
  accessWrongSourceRefusals: number;
  /** REGISTER and PUBLISH (any QoS, QoS -1 included) refused: the topic is outside the client's `publish` filters. */
  accessPublishRefusals: number;
  /** SUBSCRIBE refused: the filter is outside the client's `subscribe` filters. */
  accessSubscribeRefusals: number;
}

export function newAdmissionCounters(): AdmissionCounters {
  return {
    topicNamesRefused: 0,
    connectRateRefusals: 0,
    handshakeRefusals: 0,
    sourcesForgotten: 0,
    datagramRateDropped: 0,
    accessUnknownClientRefusals: 0,
    accessWrongSourceRefusals: 0,
    accessPublishRefusals: 0,
    accessSubscribeRefusals: 0,
  };
}
