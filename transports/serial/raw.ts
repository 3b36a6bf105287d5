import { newFramingCounters, type FramingCounters } from "./counters";

const ENCAPSULATED = 0xfe;

/** §5.2.2: 0x03, 0x11, 0x19, 0x1E..0xFD and 0xFF are reserved message types. */
export function isReservedMsgType(type: number): boolean {
  return type === 0x03 || type === 0x11 || type === 0x19 || (type >= 0x1e && type <= 0xfd) || type === 0xff;
}

type Candidate = { kind: "need" } | { kind: "bad" } | { kind: "oversize" } | { kind: "frame"; total: number };

const NEED: Candidate = { kind: "need" };
const BAD: Candidate = { kind: "bad" };
const OVERSIZE: Candidate = { kind: "oversize" };

/**
 * Streaming decoder for raw framing: MQTT-SN messages back to back on the line, each delimited by its
 * own Length field (§5.2.1, 1- and 3-octet forms). An Encapsulated message (§5.5) is its header, whose
 * Length covers the header only, followed by the whole inner message with its own Length.
 *
 * Resynchronisation after garbage: the decoder looks at the first pending octet as the start of a
 * message. If that cannot be a message start, it skips exactly one octet (counted as garbage) and
 * looks again. "Cannot" means: a Length of 0x00, a 3-octet Length below 4, a reserved MsgType, an
 * Encapsulated header too short for Ctrl and one node-id octet or wrapping another Encapsulated
 * message, or a total larger than maxMessage (counted as oversize: the frame cannot be buffered).
 * A plausible start whose frame never completes (garbage that looks like a Length) is cleared by
 * expire(), which the link calls when the line has been idle for a while: all pending octets are then
 * stale, so the decoder skips them one by one, still delivering any whole frame it finds among them.
 * Bound: at most maxMessage octets are ever pending. Pure: no I/O, no timers.
 */
export class RawDecoder {
  readonly counters: FramingCounters = newFramingCounters();
  private readonly buffer: Uint8Array;
  private length = 0;

  constructor(
    private readonly maxMessage: number,
    private readonly onFrame: (message: Uint8Array) => void,
  ) {
    this.buffer = new Uint8Array(Math.max(maxMessage, 4));
  }

  /** Octets waiting for the rest of their frame. */
  get pending(): number {
    return this.length;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.buffer.length - this.length, chunk.length - offset);
      this.buffer.set(chunk.subarray(offset, offset + n), this.length);
      this.length += n;
      offset += n;
      this.scan();
    }
  }

  /** The line went idle with octets pending: they will never complete a frame, so skip them. */
  expire(): void {
    while (this.length > 0) {
      this.skip(1);
      this.counters.garbageOctets++;
      this.scan();
    }
  }

  reset(): void {
    this.length = 0;
  }

  private scan(): void {
    let start = 0;
    while (start < this.length) {
      const c = candidate(this.buffer, start, this.length, this.maxMessage, false);
      if (c.kind === "need") break;
      if (c.kind === "frame") {
        this.counters.frames++;
        this.onFrame(this.buffer.slice(start, start + c.total));
        start += c.total;
        continue;
      }
      if (c.kind === "oversize") this.counters.oversize++;
      else this.counters.garbageOctets++;
      start += 1;
    }
    this.skip(start);
  }

  private skip(n: number): void {
    this.buffer.copyWithin(0, n, this.length);
    this.length -= n;
  }
}

function candidate(buf: Uint8Array, start: number, end: number, maxMessage: number, nested: boolean): Candidate {
  const avail = end - start;
  if (avail < 1) return NEED;
  let total = buf[start] as number;
  let header = 1;
  if (total === 0x00) return BAD;
  if (total === 0x01) {
    if (avail < 3) return NEED;
    total = ((buf[start + 1] as number) << 8) | (buf[start + 2] as number);
    header = 3;
    if (total < 4) return BAD;
  }
  if (avail < header + 1) return NEED;
  const type = buf[start + header] as number;
  if (isReservedMsgType(type)) return BAD;
  if (type === ENCAPSULATED) {
    // §5.5: Length, MsgType, Ctrl and at least one octet of WirelessNodeId.
    if (nested || total < header + 3) return BAD;
  }
  if (total > maxMessage) return OVERSIZE;
  if (type !== ENCAPSULATED) return avail < total ? NEED : { kind: "frame", total };
  if (avail < total) return NEED;
  const inner = candidate(buf, start + total, end, maxMessage - total, true);
  if (inner.kind !== "frame") return inner;
  return { kind: "frame", total: total + inner.total };
}
