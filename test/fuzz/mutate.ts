import type { Prng } from "./prng";

/** Every message type octet, reserved ones included (§5.2.2: 03, 11, 19, 1E..FD, FF are reserved). */
const TYPE_OCTETS = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
  0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x7f, 0xfd, 0xfe, 0xff,
];

/** Offset of the MsgType octet: after a 1-octet Length, or after 0x01 + 16-bit Length (§5.2.1). */
function typeOffset(frame: Uint8Array): number {
  return frame[0] === 0x01 && frame.length >= 4 ? 3 : 1;
}

/** The same message with the 3-octet Length form (0x01, then the 16-bit total), right or wrong. */
function threeOctetLength(rng: Prng, frame: Uint8Array): Uint8Array {
  if (frame[0] === 0x01) return frame;
  const body = frame.subarray(1);
  const out = new Uint8Array(body.length + 3);
  const total = rng.chance(0.7) ? out.length : rng.int(0x10000);
  out[0] = 0x01;
  out[1] = Math.floor(total / 256);
  out[2] = total % 256;
  out.set(body, 3);
  return out;
}

/**
 * A byte-level mutation of an encoded frame: bit flips, truncation, extension, a wrong or random Length,
 * the 3-octet Length form, another MsgType, or random bytes. The result may be empty.
 */
export function mutate(rng: Prng, frame: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frame);
  const kind = rng.int(10);
  switch (kind) {
    case 0: {
      const flips = rng.range(1, 3);
      for (let i = 0; i < flips && out.length > 0; i++) {
        const at = rng.int(out.length);
        out[at] = (out[at] as number) ^ (1 << rng.int(8));
      }
      return out;
    }
    case 1:
      if (out.length > 0) out[rng.int(out.length)] = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, rng.int(256)]);
      return out;
    case 2:
      return out.subarray(0, rng.int(out.length + 1));
    case 3: {
      const longer = new Uint8Array(out.length + rng.range(1, 16));
      longer.set(out);
      longer.set(rng.bytes(longer.length - out.length), out.length);
      return longer;
    }
    case 4:
      if (out.length > 0) out[0] = rng.pick([0, 1, 2, out.length - 1, out.length + 1, rng.int(256)]) % 256;
      return out;
    case 5:
      return threeOctetLength(rng, out);
    case 6: {
      const at = typeOffset(out);
      if (at < out.length) out[at] = rng.pick(TYPE_OCTETS);
      return out;
    }
    case 7: {
      // The flags octet of CONNECT, PUBLISH, SUBSCRIBE, WILLTOPIC sits right after MsgType.
      const at = typeOffset(out) + 1;
      if (at < out.length) out[at] = rng.int(256);
      return out;
    }
    case 8:
      return rng.bytes(rng.int(40));
    default: {
      // Two messages in one datagram: the gateway must not read past the first one's Length.
      const twice = new Uint8Array(out.length * 2);
      twice.set(out);
      twice.set(out, out.length);
      return twice;
    }
  }
}
