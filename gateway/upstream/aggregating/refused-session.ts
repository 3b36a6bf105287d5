import type { UpstreamSession, UpstreamSink } from "../upstream";

/** A connection the adapter refuses: CONNACK refused (the client gets 0x03), every operation fails. */
export function refusedSession(sink: UpstreamSink): UpstreamSession {
  queueMicrotask(() => sink.connack(false, true));
  return {
    publish: (_topic, _payload, qos, _retain, msgId) => {
      if (qos === 0) return false;
      sink.published(msgId, false);
      return true;
    },
    subscribe: (_filter, _qos, msgId) => sink.subAck(msgId, 0x80),
    unsubscribe: (_filter, msgId) => sink.unsubAck(msgId),
    replace: () => sink.connack(false, true),
    close: () => Promise.resolve(),
  };
}
