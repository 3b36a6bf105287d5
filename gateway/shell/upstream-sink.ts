import type { UpstreamSink } from "../upstream/upstream";
import type { Client, Shell } from "./context";
import { holdDurably } from "./durable-sleep";

/** What the upstream connection of one client reports, turned into session events. */
export function sinkFor(shell: Shell, c: Client): UpstreamSink {
  const { config, counters, log } = shell;
  return {
    connack: (ok, refused) => shell.run(c, { kind: "upConnack", ok, refused }),
    published: (msgId, ok) => shell.run(c, { kind: "upPublished", msgId, ok }),
    subAck: (msgId, granted) => shell.run(c, { kind: "upSubAck", msgId, granted }),
    unsubAck: (msgId) => shell.run(c, { kind: "upUnsubAck", msgId }),
    message: (topic, payload, qos, retain, ack) => {
      if (payload.length + 7 > config.limits.maxMessageSize || payload.length + 7 > c.link.mtu) {
        counters.deliveriesDropped++;
        log.warn("delivery-dropped", {
          clientId: c.session.clientId,
          topic,
          reason: `message of ${payload.length} octets exceeds limits.maxMessageSize or the link MTU`,
        });
        if (ack !== undefined) ack();
        return;
      }
      if (c.writing || c.backlog.length > 0) {
        if (c.backlog.length >= config.sleep.maxMessages + config.limits.maxInflight) {
          // Bounded: QoS 0 dropped and counted; QoS 1/2 left unacknowledged at the broker (upstream paused).
          if (qos === 0) counters.sleepDropped++;
          else
            shell.run(c, {
              kind: "upMessage",
              delivery: { topic, payload, qos, retain, token: ack, reregistered: false, storeRefused: true },
            });
          log.warn("limit-hit", {
            limit: "sleep.maxMessages + limits.maxInflight (messages waiting for a store write)",
            clientId: c.session.clientId,
            topic,
            qos,
          });
          return;
        }
        c.backlog.push(() => onUpstreamMessage(shell, c, topic, payload, qos, retain, ack));
        return;
      }
      onUpstreamMessage(shell, c, topic, payload, qos, retain, ack);
    },
    closed: () => shell.run(c, { kind: "upClosed" }),
  };
}

function onUpstreamMessage(
  shell: Shell,
  c: Client,
  topic: string,
  payload: Uint8Array,
  qos: 0 | 1 | 2,
  retain: boolean,
  ack: (() => void) | undefined,
): void {
  const store = shell.store;
  if (qos > 0 && ack !== undefined && store !== undefined && c.session.state === "asleep" && !c.session.cleanSession) {
    holdDurably(shell, c, topic, payload, qos === 2 ? 2 : 1, retain, ack, store);
    return;
  }
  shell.run(c, { kind: "upMessage", delivery: { topic, payload, qos, retain, token: ack, reregistered: false } });
}
