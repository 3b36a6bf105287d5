/** What a serial-framing decoder dropped, by reason. Counters only grow. */
export interface FramingCounters {
  /** Frames handed on to the link. */
  frames: number;
  /** Octets skipped while looking for the start of a frame (raw framing) or outside any frame. */
  garbageOctets: number;
  /** Frames whose CRC did not match (slip framing). */
  badCrc: number;
  /** Frames larger than the link's MTU, dropped whole. */
  oversize: number;
  /** Frames too short to hold a message, or with an invalid escape sequence (slip framing). */
  malformed: number;
}

export function newFramingCounters(): FramingCounters {
  return { frames: 0, garbageOctets: 0, badCrc: 0, oversize: 0, malformed: 0 };
}
