/** Largest MQTT Remaining Length, four octets of variable length encoding (MQTT 3.1.1 §2.2.3). */
const MAX_REMAINING_LENGTH = 268_435_455;
const FIRST_CAPACITY = 512;

/**
 * The octets a connection writes in one event-loop turn, sent to its socket as one write when the turn
 * ends. PUBLISH, the packet every message is, is encoded here directly (MQTT 3.1.1 §3.3); other packets
 * come encoded. Between turns it holds nothing.
 */
export class Outbox {
  private bytes: Buffer | undefined;
  private used = 0;

  get length(): number {
    return this.used;
  }

  append(packet: Uint8Array): void {
    this.room(packet.length).set(packet, this.used);
    this.used += packet.length;
  }

  /** False (nothing written) when the topic or the packet is too long for MQTT. messageId: for QoS 1 and 2. */
  publish(
    topic: string,
    payload: Uint8Array,
    qos: 0 | 1 | 2,
    retain: boolean,
    dup: boolean,
    messageId: number,
  ): boolean {
    const topicLength = Buffer.byteLength(topic);
    if (topicLength > 0xffff) return false;
    const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + payload.length;
    if (remaining > MAX_REMAINING_LENGTH) return false;
    const size = 1 + lengthOctets(remaining) + remaining;
    const b = this.room(size);
    let at = this.used;
    b[at++] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
    for (let n = remaining; ;) {
      const digit = n & 0x7f;
      n >>>= 7;
      b[at++] = n > 0 ? digit | 0x80 : digit;
      if (n === 0) break;
    }
    b[at++] = topicLength >> 8;
    b[at++] = topicLength & 0xff;
    at += b.write(topic, at, "utf8");
    if (qos > 0) {
      b[at++] = messageId >> 8;
      b[at++] = messageId & 0xff;
    }
    b.set(payload, at);
    this.used = at + payload.length;
    return true;
  }

  /** What was written since the last take, and the outbox is empty again. */
  take(): Buffer | undefined {
    const bytes = this.bytes;
    const used = this.used;
    this.bytes = undefined;
    this.used = 0;
    return bytes === undefined || used === 0 ? undefined : bytes.subarray(0, used);
  }

  /** The buffer, with room for `size` more octets after `used`. */
  private room(size: number): Buffer {
    const b = this.bytes;
    if (b !== undefined && this.used + size <= b.length) return b;
    const grown = Buffer.allocUnsafe(Math.max(FIRST_CAPACITY, (b?.length ?? 0) * 2, this.used + size));
    if (b !== undefined) b.copy(grown, 0, 0, this.used);
    this.bytes = grown;
    return grown;
  }
}

function lengthOctets(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}
