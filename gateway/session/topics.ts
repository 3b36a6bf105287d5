/**
 * A client's topic ids (§2.3, §6.5): ids registered in either direction (TopicIdType normal) and the
 * predefined ids the configuration gives this client. Registered ids are bounded by `limit`; when full
 * the gateway answers REGACK / SUBACK "congestion" or drops the delivery (counted).
 */
export class TopicTable {
  /** Made at the first registration: most sensors use predefined or short topics only. */
  private idByName: Map<string, number> | undefined;
  private nameById: Map<number, string> | undefined;
  private nextId = 1;

  constructor(
    private readonly limit: number,
    private readonly predefinedIdByName: ReadonlyMap<string, number>,
    private readonly predefinedNameById: ReadonlyMap<number, string>,
  ) {}

  get size(): number {
    return this.idByName === undefined ? 0 : this.idByName.size;
  }

  idOf(name: string): number | undefined {
    return this.idByName?.get(name);
  }

  nameOf(id: number): string | undefined {
    return this.nameById?.get(id);
  }

  predefinedIdOf(name: string): number | undefined {
    return this.predefinedIdByName.get(name);
  }

  predefinedNameOf(id: number): string | undefined {
    return this.predefinedNameById.get(id);
  }

  /** The id for name, allocating one when needed; undefined when the table is full. Allocation and confirmation are one step. */
  register(name: string): number | undefined {
    const known = this.idOf(name);
    if (known !== undefined) return known;
    const id = this.allocate();
    if (id === undefined) return undefined;
    this.add(name, id);
    return id;
  }

  /** A free id without recording it (a gateway REGISTER awaiting REGACK); undefined when the table is full. */
  allocate(): number | undefined {
    if (this.size >= this.limit) return undefined;
    for (let tries = 0; tries < 0xfffe; tries++) {
      const id = this.nextId;
      this.nextId = id >= 0xfffe ? 1 : id + 1;
      if (this.nameOf(id) === undefined) return id;
    }
    return undefined;
  }

  add(name: string, id: number): void {
    (this.idByName ??= new Map()).set(name, id);
    (this.nameById ??= new Map()).set(id, name);
  }

  remove(id: number): void {
    const name = this.nameOf(id);
    if (name === undefined) return;
    this.nameById?.delete(id);
    this.idByName?.delete(name);
  }

  /** Forgets every registered id (a CONNECT with CleanSession 1); predefined ids stay. */
  clear(): void {
    this.idByName = undefined;
    this.nameById = undefined;
    this.nextId = 1;
  }
}

export function predefinedMaps(
  global: Record<string, number>,
  perClient: Record<string, number> | undefined,
): {
  idByName: Map<string, number>;
  nameById: Map<number, string>;
} {
  const idByName = new Map<string, number>();
  const nameById = new Map<number, string>();
  for (const table of [global, perClient ?? {}]) {
    for (const [name, id] of Object.entries(table)) {
      const previous = nameById.get(id);
      if (previous !== undefined) idByName.delete(previous);
      idByName.set(name, id);
      nameById.set(id, name);
    }
  }
  return { idByName, nameById };
}
