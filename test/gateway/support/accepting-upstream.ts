import type { Upstream, UpstreamSink } from "../../../gateway/upstream/upstream";

/**
 * An upstream that accepts everything at once, without a broker: for many sessions at a time where a broker
 * connection each would be too heavy for the test machine. It covers nothing of the broker's side.
 */
export function acceptingUpstream(): Upstream {
  return {
    open: (_options, sink: UpstreamSink) => {
      sink.connack(true, false);
      return {
        publish: () => true,
        subscribe: (_filter, qos, msgId) => sink.subAck(msgId, qos),
        unsubscribe: (_filter, msgId) => sink.unsubAck(msgId),
        replace: () => sink.connack(true, false),
        close: async () => undefined,
      };
    },
    publishAnonymous: () => undefined,
    brokerStatus: () => "reachable",
    close: async () => undefined,
  };
}
