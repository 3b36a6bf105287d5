/**
 * A datagram link: the one interface through which the gateway reaches devices (UDP, serial, BLE …).
 * One link may reach many devices, each known by an address string that is unique on that link.
 */
export interface Link {
  /** Unique within one gateway, e.g. "udp:0.0.0.0:1884" or "serial:/dev/ttyUSB0"; sessions are keyed by link and address. */
  readonly name: string;
  /** The largest MQTT-SN frame, in octets, this link carries. */
  readonly mtu: number;
  /**
   * Opens the link and starts delivering frames. The frame handed to onFrame is the receiver's to keep;
   * address identifies the sender on this link ("127.0.0.1:5000", "[::1]:5000", a BLE peripheral id …).
   */
  open(onFrame: (frame: Uint8Array, address: string) => void): Promise<void>;
  /**
   * Sends one frame to one address. The link owns the frame from then on: the caller must not change it.
   * Returns false, and logs the reason, when the frame is refused: larger than mtu (never truncated),
   * link down, address unknown.
   */
  send(address: string, frame: Uint8Array): boolean;
  /** Sends one frame to every device the link can reach (broadcast or multicast address, the serial line, every peripheral). */
  broadcast(frame: Uint8Array): void;
  /** Stops delivering frames and releases the link's resources. */
  close(): Promise<void>;
}

/** Structured logging: an event name plus fields. Implementations write one JSON line per record. */
export interface Log {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}
