/**
 * RFC 6347 §4.1.2.6 anti-replay: a sliding window over the record sequence numbers of one peer and epoch. A
 * number is taken as new only once; the window moves only for records that authenticated (mark()).
 */
export class ReplayWindow {
  private static readonly SIZE = 64n;
  private epoch = -1;
  private highest = -1n;
  /** Bit i set: sequence number highest - i was received. */
  private seen = 0n;

  /** True when a record with this epoch and sequence number may be new. */
  fresh(epoch: number, sequence: bigint): boolean {
    if (epoch !== this.epoch) return epoch > this.epoch;
    if (sequence > this.highest) return true;
    const age = this.highest - sequence;
    if (age >= ReplayWindow.SIZE) return false;
    return (this.seen & (1n << age)) === 0n;
  }

  /** Records an authenticated record's number. */
  mark(epoch: number, sequence: bigint): void {
    if (epoch > this.epoch) {
      this.epoch = epoch;
      this.highest = -1n;
      this.seen = 0n;
    }
    if (sequence > this.highest) {
      const shift = sequence - this.highest;
      this.seen = shift >= ReplayWindow.SIZE ? 1n : ((this.seen << shift) | 1n) & ((1n << ReplayWindow.SIZE) - 1n);
      this.highest = sequence;
    } else {
      this.seen |= 1n << (this.highest - sequence);
    }
  }
}

/** One DTLS record of a datagram: its content type, epoch, sequence number and the whole record's bytes. */
export interface RecordView {
  type: number;
  epoch: number;
  sequence: bigint;
  bytes: Buffer;
}

/** Splits a datagram into its records (RFC 6347 §4.1: 13-octet header, 2-octet length); a truncated tail ends the list. */
export function splitRecords(datagram: Buffer): RecordView[] {
  const out: RecordView[] = [];
  let at = 0;
  while (at + 13 <= datagram.length) {
    const length = datagram.readUInt16BE(at + 11);
    if (at + 13 + length > datagram.length) break;
    out.push({
      type: datagram[at] as number,
      epoch: datagram.readUInt16BE(at + 3),
      sequence: (BigInt(datagram.readUInt16BE(at + 5)) << 32n) | BigInt(datagram.readUInt32BE(at + 7)),
      bytes: datagram.subarray(at, at + 13 + length),
    });
    at += 13 + length;
  }
  return out;
}
