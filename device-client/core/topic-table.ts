/** Topic name ⇄ topic id for one gateway session (§6.5, §6.10). Entries: free, registering, registered. */
export const enum TopicEntry {
  Free = 0,
  Registering = 1,
  Registered = 2,
}

/**
 * A bounded table kept in parallel arrays allocated once. When it is full, the least recently used
 * registered entry that no pending exchange needs is replaced; when none can be, find/insert
 * report -1 and the caller refuses the operation.
 */
export class TopicTable {
  names: string[];
  ids: number[];
  states: number[];
  used: number[];
  /** Pending exchanges that need entry i: a pinned entry is never replaced. */
  pins: number[];
  readonly size: number;
  private clock: number;

  constructor(size: number) {
    this.size = size;
    this.names = [];
    this.ids = [];
    this.states = [];
    this.used = [];
    this.pins = [];
    this.clock = 0;
    for (let i = 0; i < size; i++) {
      this.names.push("");
      this.ids.push(0);
      this.states.push(TopicEntry.Free);
      this.used.push(0);
      this.pins.push(0);
    }
  }

  /** Index of the entry for this name, or -1. */
  findName(name: string): number {
    for (let i = 0; i < this.size; i++) {
      if (this.states[i] !== TopicEntry.Free && this.names[i] === name) {
        this.touch(i);
        return i;
      }
    }
    return -1;
  }

  /** Index of the registered entry with this id, or -1. */
  findId(id: number): number {
    for (let i = 0; i < this.size; i++) {
      if (this.states[i] === TopicEntry.Registered && this.ids[i] === id) {
        this.touch(i);
        return i;
      }
    }
    return -1;
  }

  /** A new entry for name, or -1 when every entry is registering or pinned. */
  insert(name: string, id: number, state: number): number {
    let victim = -1;
    for (let i = 0; i < this.size; i++) {
      if (this.states[i] === TopicEntry.Free) {
        victim = i;
        break;
      }
      if (
        this.states[i] === TopicEntry.Registered &&
        this.pins[i] === 0 &&
        (victim < 0 || (this.used[i] as number) < (this.used[victim] as number))
      ) {
        victim = i;
      }
    }
    if (victim < 0) {
      return -1;
    }
    this.names[victim] = name;
    this.ids[victim] = id;
    this.states[victim] = state;
    this.touch(victim);
    return victim;
  }

  free(i: number): void {
    this.states[i] = TopicEntry.Free;
    this.names[i] = "";
    this.pins[i] = 0;
  }

  /** A new session: the gateway knows none of our ids any more (§6.2, clean or not, to be safe). */
  clear(): void {
    for (let i = 0; i < this.size; i++) {
      this.free(i);
    }
  }

  private touch(i: number): void {
    this.clock++;
    this.used[i] = this.clock;
  }
}
