import { LazyMap } from "../lazy-collections";

/** Highest MQTT packet identifier: a 16-bit field (MQTT 3.1.1 §2.3.1). */
export const MAX_PACKET_ID = 65535;

/**
 * The packet identifiers a client has in use, each with what waits on it. Identifiers run 1..65535
 * and none is handed out twice while in use (MQTT 3.1.1 §2.3.1), so the table never holds more than
 * 65535 entries: when all are taken, add() returns 0 and the caller refuses the packet.
 */
export class PacketIds<T> {
  private readonly inUse: Map<number, T> = new LazyMap();
  private last = 0;

  get size(): number {
    return this.inUse.size;
  }

  /** The next free identifier after the last one handed out, now holding `value`; 0 when none is free. */
  add(value: T): number {
    if (this.inUse.size >= MAX_PACKET_ID) return 0;
    let id = this.last;
    do {
      id = id === MAX_PACKET_ID ? 1 : id + 1;
    } while (this.inUse.has(id));
    this.last = id;
    this.inUse.set(id, value);
    return id;
  }

  get(id: number): T | undefined {
    return this.inUse.get(id);
  }

  /** Frees the identifier and returns what held it, or undefined when it was not in use. */
  take(id: number): T | undefined {
    const value = this.inUse.get(id);
    if (value !== undefined) this.inUse.delete(id);
    return value;
  }

  /** Frees every identifier and returns what held them, in the order they were added. */
  takeAll(): T[] {
    const all = [...this.inUse.values()];
    this.inUse.clear();
    return all;
  }
}
