/**
 * A Map and a Set that hold no table while empty. A session has a dozen of them and most stay empty for
 * its whole life; an empty Map still costs about 180 octets, a LazyMap about 30. The table is made at the
 * first entry and let go when the last one leaves.
 */
export class LazyMap<K, V> implements Map<K, V> {
  private table: Map<K, V> | undefined;

  get size(): number {
    return this.table === undefined ? 0 : this.table.size;
  }

  get(key: K): V | undefined {
    return this.table?.get(key);
  }

  has(key: K): boolean {
    return this.table !== undefined && this.table.has(key);
  }

  set(key: K, value: V): this {
    (this.table ??= new Map()).set(key, value);
    return this;
  }

  delete(key: K): boolean {
    const t = this.table;
    if (t === undefined || !t.delete(key)) return false;
    if (t.size === 0) this.table = undefined;
    return true;
  }

  clear(): void {
    this.table = undefined;
  }

  forEach(callback: (value: V, key: K, map: Map<K, V>) => void, thisArg?: unknown): void {
    this.table?.forEach((value, key) => callback.call(thisArg, value, key, this));
  }

  entries(): MapIterator<[K, V]> {
    return (this.table ?? EMPTY_MAP).entries() as MapIterator<[K, V]>;
  }

  keys(): MapIterator<K> {
    return (this.table ?? EMPTY_MAP).keys() as MapIterator<K>;
  }

  values(): MapIterator<V> {
    return (this.table ?? EMPTY_MAP).values() as MapIterator<V>;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "LazyMap";
  }
}

export class LazySet<T> implements Set<T> {
  private table: Set<T> | undefined;

  get size(): number {
    return this.table === undefined ? 0 : this.table.size;
  }

  has(value: T): boolean {
    return this.table !== undefined && this.table.has(value);
  }

  add(value: T): this {
    (this.table ??= new Set()).add(value);
    return this;
  }

  delete(value: T): boolean {
    const t = this.table;
    if (t === undefined || !t.delete(value)) return false;
    if (t.size === 0) this.table = undefined;
    return true;
  }

  clear(): void {
    this.table = undefined;
  }

  forEach(callback: (value: T, same: T, set: Set<T>) => void, thisArg?: unknown): void {
    this.table?.forEach((value) => callback.call(thisArg, value, value, this));
  }

  entries(): SetIterator<[T, T]> {
    return (this.table ?? EMPTY_SET).entries() as SetIterator<[T, T]>;
  }

  keys(): SetIterator<T> {
    return (this.table ?? EMPTY_SET).keys() as SetIterator<T>;
  }

  values(): SetIterator<T> {
    return (this.table ?? EMPTY_SET).values() as SetIterator<T>;
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }

  get [Symbol.toStringTag](): string {
    return "LazySet";
  }
}

const EMPTY_MAP: ReadonlyMap<unknown, unknown> = new Map();
const EMPTY_SET: ReadonlySet<unknown> = new Set();
