import { LazyMap } from "../lazy-collections";

/**
 * Where an incoming QoS 1/2 PUBLISH stands while its acknowledgement is held: "qos1" waits for
 * PUBACK, "qos2" for PUBREC, "qos2-received" (PUBREC sent) for the broker's PUBREL.
 */
type Held = "qos1" | "qos2" | "qos2-received";

/** What to do with an incoming QoS 1/2 PUBLISH. */
export type Arrival = "deliver" | "ignore" | "pubrec";

/**
 * Incoming QoS 1/2 PUBLISH packets whose acknowledgement waits for the MQTT-SN client, keyed by the
 * broker's packet identifier. The broker never reuses an identifier still in use (MQTT 3.1.1 §2.3.1),
 * so a PUBLISH with a held identifier is a resend and the table holds at most 65535 entries.
 */
export class IncomingAcks {
  private readonly held: Map<number, Held> = new LazyMap();

  get size(): number {
    return this.held.size;
  }

  /**
   * A PUBLISH arrived. New identifier: deliver it and hold its acknowledgement. Held identifier: a
   * resend, not delivered again; at QoS 2 after PUBREC it gets PUBREC again (§4.3.3, method B keeps the
   * identifier until PUBREL, so the message is not handed over twice).
   */
  arrived(messageId: number, qos: 1 | 2): Arrival {
    const held = this.held.get(messageId);
    if (held === undefined) {
      this.held.set(messageId, qos === 1 ? "qos1" : "qos2");
      return "deliver";
    }
    return held === "qos2-received" ? "pubrec" : "ignore";
  }

  /**
   * The client has the message: the acknowledgement to send now, PUBACK (QoS 1, §4.3.2, identifier
   * forgotten) or PUBREC (QoS 2, §4.3.3, identifier kept until PUBREL); undefined when unknown or
   * already released.
   */
  release(messageId: number): "puback" | "pubrec" | undefined {
    const held = this.held.get(messageId);
    if (held === "qos1") {
      this.held.delete(messageId);
      return "puback";
    }
    if (held === "qos2") {
      this.held.set(messageId, "qos2-received");
      return "pubrec";
    }
    return undefined;
  }

  /**
   * PUBREL arrived: whether to answer PUBCOMP. After our PUBREC the identifier is forgotten and
   * PUBCOMP goes; an unknown identifier (a PUBREL resent from an earlier connection) is answered too
   * (§4.3.3). A PUBREL for a message not yet received by us is a broker error and is not answered.
   */
  pubrel(messageId: number): boolean {
    const held = this.held.get(messageId);
    if (held === undefined) return true;
    if (held !== "qos2-received") return false;
    this.held.delete(messageId);
    return true;
  }

  clear(): void {
    this.held.clear();
  }
}
