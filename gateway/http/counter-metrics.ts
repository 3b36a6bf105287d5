import type { Counters } from "../session/types";

/** Where one gateway counter goes in /metrics: a metric name and, for metrics split by reason or QoS, its labels. */
export interface CounterMetric {
  name: string;
  help: string;
  labels?: Record<string, string>;
}

const DROPPED = "Messages the gateway dropped, by reason";
const REFUSED = "Requests the gateway refused, by reason";
const MESSAGES = 'PUBLISH messages: "up" from clients to the broker, "down" to clients (first transmissions), by QoS';

/**
 * Every counter of the gateway (gateway/session/types.ts Counters) and its metric. Typed over every key, so a
 * counter added there must be given its place here.
 */
export const COUNTER_METRICS: Record<keyof Counters, CounterMetric> = {
  publishesUpQosMinusOne: { name: "mqttsn_messages_total", help: MESSAGES, labels: { direction: "up", qos: "-1" } },
  publishesUpQos0: { name: "mqttsn_messages_total", help: MESSAGES, labels: { direction: "up", qos: "0" } },
  publishesUpQos1: { name: "mqttsn_messages_total", help: MESSAGES, labels: { direction: "up", qos: "1" } },
  publishesUpQos2: { name: "mqttsn_messages_total", help: MESSAGES, labels: { direction: "up", qos: "2" } },
  publishesDownQos0: { name: "mqttsn_messages_total", help: MESSAGES, labels: { direction: "down", qos: "0" } },
  publishesDownQos1: { name: "mqttsn_messages_total", help: MESSAGES, labels: { direction: "down", qos: "1" } },
  publishesDownQos2: { name: "mqttsn_messages_total", help: MESSAGES, labels: { direction: "down", qos: "2" } },

  datagramRateDropped: { name: "mqttsn_dropped_total", help: DROPPED, labels: { reason: "datagram_rate" } },
  malformedDropped: { name: "mqttsn_dropped_total", help: DROPPED, labels: { reason: "malformed" } },
  qosMinusOneDropped: { name: "mqttsn_dropped_total", help: DROPPED, labels: { reason: "qos_minus_one_topic" } },
  deliveriesDropped: { name: "mqttsn_dropped_total", help: DROPPED, labels: { reason: "delivery_undeliverable" } },
  upstreamDropped: { name: "mqttsn_dropped_total", help: DROPPED, labels: { reason: "upstream_backlog" } },
  sleepDropped: { name: "mqttsn_dropped_total", help: DROPPED, labels: { reason: "queue_full" } },
  sleepDiscarded: { name: "mqttsn_dropped_total", help: DROPPED, labels: { reason: "session_ended" } },

  connectRateRefusals: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "connect_rate" } },
  handshakeRefusals: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "connect_handshakes" } },
  topicNamesRefused: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "topic_name_wildcard" } },
  accessUnknownClientRefusals: {
    name: "mqttsn_refused_total",
    help: REFUSED,
    labels: { reason: "access_unknown_client" },
  },
  accessWrongSourceRefusals: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "access_wrong_source" } },
  accessPublishRefusals: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "access_publish" } },
  accessSubscribeRefusals: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "access_subscribe" } },
  sleepRefused: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "queue_full" } },
  spoofedWakeups: { name: "mqttsn_refused_total", help: REFUSED, labels: { reason: "wake_from_other_address" } },

  congestionRefusals: {
    name: "mqttsn_congestion_total",
    help: "Answers with return code 0x01 (congestion): CONNACK, REGACK, PUBACK, SUBACK, any limit",
  },
  deliveriesDeferred: {
    name: "mqttsn_deliveries_deferred_total",
    help: "QoS 1/2 messages left unacknowledged at the broker because the client's queue was full",
  },
  refetches: {
    name: "mqttsn_refetches_total",
    help: "Upstream connections remade to fetch messages left at the broker",
  },
  retransmissions: {
    name: "mqttsn_retransmissions_total",
    help: "Messages sent to clients again after T_RETRY (§6.13)",
  },
  clientsLost: {
    name: "mqttsn_clients_lost_total",
    help: "Clients lost: keep-alive or sleep duration passed without a message, or N_RETRY exhausted",
  },
  sleepExpired: {
    name: "mqttsn_sleep_expired_total",
    help: "Sleeping clients lost: nothing heard within the sleep duration plus grace (§6.14)",
  },
  takeovers: {
    name: "mqttsn_takeovers_total",
    help: "CONNECTs that took a client id over from another address",
  },
  protocolViolations: {
    name: "mqttsn_protocol_violations_total",
    help: "Messages that broke the protocol for the session's state",
  },
  unknownClientFrames: {
    name: "mqttsn_unknown_client_frames_total",
    help: "Messages no session could take: from an address without one (answered with DISCONNECT, §6.13) or in a state that does not accept them",
  },
  sessionFaults: {
    name: "mqttsn_session_faults_total",
    help: "Exceptions on one client's path: that session was ended, the gateway went on",
  },
  sourcesForgotten: {
    name: "mqttsn_sources_forgotten_total",
    help: "Sources whose CONNECT rate history was forgotten because the table of sources was full",
  },
};
