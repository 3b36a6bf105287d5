/** Frames received by a test peer or link, awaited in order. Bound: a test that lets more than 10 000 pile up fails. */
export class FrameQueue {
  private readonly frames: { frame: Uint8Array; address: string }[] = [];
  private waiter: (() => void) | undefined;

  readonly push = (frame: Uint8Array, address = ""): void => {
    if (this.frames.length >= 10_000) throw new Error("FrameQueue: more than 10 000 frames not taken");
    this.frames.push({ frame: Uint8Array.from(frame), address });
    this.waiter?.();
  };

  get length(): number {
    return this.frames.length;
  }

  async next(timeoutMs = 3000): Promise<{ frame: Uint8Array; address: string }> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.frames.shift() as { frame: Uint8Array; address: string };
  }

  /** Waits quietMs and returns how many frames arrived meanwhile (and are still queued). */
  async settle(quietMs: number): Promise<number> {
    await new Promise((r) => setTimeout(r, quietMs));
    return this.frames.length;
  }
}

/**
 * A well-formed MQTT-SN PUBLISH (QoS 0, topic id 1) of exactly `total` octets, its payload derived from
 * `seed`, using the 3-octet Length form from 256 octets on (§5.2.1).
 */
export function publishOfLength(total: number, seed: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  if (total >= 256) {
    out[o++] = 0x01;
    out[o++] = total >> 8;
    out[o++] = total & 0xff;
  } else {
    out[o++] = total;
  }
  out[o++] = 0x0c;
  out[o++] = 0x00;
  out[o++] = 0x00;
  out[o++] = 0x01;
  out[o++] = 0x00;
  out[o++] = 0x00;
  for (let i = 0; o < total; i++) out[o++] = (seed * 31 + i) & 0xff;
  return out;
}

export const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
