/**
 * A bounded least-recently-used cache on a `Map` (insertion order is recency order).
 * @module
 */

/** A map that holds at most `capacity` entries, dropping the least recently used first. */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be an integer >= 1');
    this.capacity = capacity;
  }

  /** The number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  #lastKey: K | undefined;
  #lastValue: V | undefined;

  /** The value under `key`, marking it most recently used; `undefined` when absent. */
  get(key: K): V | undefined {
    // Hot path: the same key as last time is already the most recently used.
    if (key === this.#lastKey && this.#lastValue !== undefined) return this.#lastValue;
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    this.#lastKey = key;
    this.#lastValue = value;
    return value;
  }

  /** Stores `value` under `key`, evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    this.#lastKey = key;
    this.#lastValue = value;
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  /** Whether `key` is held (without touching its recency). */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Removes `key`. */
  delete(key: K): void {
    this.#entries.delete(key);
    if (key === this.#lastKey) this.#lastValue = undefined;
  }

  /** Removes everything. */
  clear(): void {
    this.#entries.clear();
    this.#lastKey = undefined;
    this.#lastValue = undefined;
  }
}

/**
 * A bounded cache whose misses are loaded at most once at a time per key: concurrent callers of
 * `get(key, load)` share one in-flight load. A failed load is not cached (the next call retries).
 */
export class LoadingCache<K, V> {
  readonly #cache: LruCache<K, V>;
  readonly #inFlight = new Map<K, Promise<V>>();

  constructor(capacity: number) {
    this.#cache = new LruCache(capacity);
  }

  /** The number of cached entries. */
  get size(): number {
    return this.#cache.size;
  }

  /** The cached value, without loading. */
  peek(key: K): V | undefined {
    return this.#cache.get(key);
  }

  /** The cached value, or the (shared) result of `load()`: only the first concurrent caller's `load` runs. */
  get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.#cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = load().then(
        (value) => {
          this.#inFlight.delete(key);
          this.#cache.set(key, value);
          return value;
        },
        (error: unknown) => {
          this.#inFlight.delete(key);
          throw error;
        },
      );
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  /** Stores a value loaded another way. */
  set(key: K, value: V): void {
    this.#cache.set(key, value);
  }

  /** Forgets everything cached (in-flight loads still complete). */
  clear(): void {
    this.#cache.clear();
  }
}
