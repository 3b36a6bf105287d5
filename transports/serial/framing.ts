import type { FramingCounters } from "./counters";
import { RawDecoder } from "./raw";
import { encodeSlip, SlipDecoder } from "./slip";

/** How MQTT-SN messages are delimited on a byte stream (a serial port, a BLE UART). See hardware/serial-framing.md. */
export type Framing = "raw" | "slip";

export const FRAMINGS: readonly Framing[] = ["raw", "slip"];

/** The framing-specific half of a stream link: what goes on the wire for one message, and a decoder for what comes off it. */
export interface Framer {
  readonly framing: Framing;
  readonly counters: FramingCounters;
  encode(message: Uint8Array): Uint8Array;
  push(chunk: Uint8Array): void;
  /** Octets held waiting for the rest of a frame. */
  readonly pending: number;
  /** The line has been idle: drop what is pending (raw framing resynchronises; SLIP waits for END anyway). */
  expire(): void;
  reset(): void;
}

export function createFramer(framing: Framing, maxMessage: number, onFrame: (message: Uint8Array) => void): Framer {
  if (framing === "raw") {
    const decoder = new RawDecoder(maxMessage, onFrame);
    return {
      framing,
      counters: decoder.counters,
      encode: (message) => message,
      push: (chunk) => decoder.push(chunk),
      get pending() {
        return decoder.pending;
      },
      expire: () => decoder.expire(),
      reset: () => decoder.reset(),
    };
  }
  const decoder = new SlipDecoder(maxMessage, onFrame);
  return {
    framing,
    counters: decoder.counters,
    encode: (message) => encodeSlip(message),
    push: (chunk) => decoder.push(chunk),
    pending: 0,
    expire: () => undefined,
    reset: () => decoder.reset(),
  };
}
