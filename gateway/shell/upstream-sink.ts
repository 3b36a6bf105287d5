import { unmount } from "../access/mountpoint";
import type { UpstreamSink } from "../upstream/upstream";
import type { Client, Shell } from "./context";

/**
 * What the upstream connection of one client reports, turned into session events. A broker message
 * enters the session's custody unacknowledged ("broker"): the session acknowledges it once the client
 * has it, or once it is in the store.
 */
export function sinkFor(shell: Shell, c: Client): UpstreamSink {
  return new ClientSink(shell, c);
}

/** A class rather than an object of closures: one sink per connected client, so its size counts. */
class ClientSink implements UpstreamSink {
  constructor(
    private readonly shell: Shell,
    private readonly c: Client,
  ) {}

  connack(ok: boolean, refused: boolean): void {
    this.shell.run(this.c, { kind: "upConnack", ok, refused });
  }

  published(msgId: number, ok: boolean): void {
    this.shell.run(this.c, { kind: "upPublished", msgId, ok });
  }

  subAck(msgId: number, granted: number): void {
    this.shell.run(this.c, { kind: "upSubAck", msgId, granted });
  }

  unsubAck(msgId: number): void {
    this.shell.run(this.c, { kind: "upUnsubAck", msgId });
  }

  closed(): void {
    this.shell.run(this.c, { kind: "upClosed" });
  }

  message(
    brokerTopic: string,
    payload: Uint8Array,
    qos: 0 | 1 | 2,
    retain: boolean,
    ack: (() => void) | undefined,
    packetId?: number,
  ): void {
    const { shell, c } = this;
    const { counters, log } = shell;
    if (c.ended) return;
    // Subscriptions carry the client's mountpoint, so every message does: the client sees its own topic.
    const topic = unmount(c.session.access?.mountpoint, brokerTopic);
    if (topic === undefined) {
      counters.deliveriesDropped++;
      log.warn("delivery-dropped", {
        clientId: c.session.clientId,
        topic: brokerTopic,
        reason: "outside its mountpoint",
      });
      if (ack !== undefined) ack();
      return;
    }
    if (payload.length + 7 > shell.config.limits.maxMessageSize || payload.length + 7 > c.link.mtu) {
      counters.deliveriesDropped++;
      log.warn("delivery-dropped", {
        clientId: c.session.clientId,
        topic,
        reason: `message of ${payload.length} octets exceeds limits.maxMessageSize or the link MTU`,
      });
      if (ack !== undefined) ack();
      return;
    }
    shell.run(c, {
      kind: "upMessage",
      delivery: {
        topicName: topic,
        // The record may wait in the queue for long: it must not pin the socket's read buffer.
        payload: new Uint8Array(payload),
        qos,
        retain,
        custody: qos > 0 && ack !== undefined ? "broker" : "none",
        release: ack,
        reregistered: false,
        ...(qos === 2 && packetId !== undefined ? { brokerPacketId: packetId } : {}),
      },
    });
  }
}
