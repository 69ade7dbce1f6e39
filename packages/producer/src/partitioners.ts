/**
 * Partitioners: which partition a record goes to. The default is Java-compatible murmur2 for
 * keyed records and uniform sticky (KIP-794) for records without a key.
 *
 * A partitioner is a function `(record, partitionCount, context) => partition`. A record with
 * an explicit `partition` never reaches it.
 * @module
 */

import { murmur2Partition } from './murmur2.js';

/** What a partitioner sees of a record. */
export interface PartitionerRecord<K, V> {
  readonly topic: string;
  /** The key as given to `send()`, or `null`/`undefined` when there is none. */
  readonly key: K | null | undefined;
  /** The serialized key, or `null` when the record has no key. */
  readonly keyBytes: Buffer | null;
  /** The value as given to `send()`. */
  readonly value: V;
  /** The record's approximate size in bytes (key + value + headers + overhead). */
  readonly sizeBytes: number;
}

/** What a partitioner may ask the producer. */
export interface PartitionerContext {
  /** Bytes queued in the producer, not yet acknowledged, for a partition of the record's topic. */
  queuedBytes(partition: number): number;
  /** The producer's `batchBytes`: how much uniform sticky puts on a partition before moving on. */
  readonly batchBytes: number;
}

/**
 * Picks a partition in `[0, partitionCount)` for a record. Custom partitioners may ignore the
 * context: `(record, partitionCount) => hash(record.value.tenant) % partitionCount`.
 */
export type Partitioner<K = unknown, V = unknown> = (
  record: PartitionerRecord<K, V>,
  partitionCount: number,
  context: PartitionerContext,
) => number;

/** Keyed records by murmur2 (Java-compatible); records without a key by `fallback`. */
function murmur2Keyed<K, V>(fallback: Partitioner<K, V>): Partitioner<K, V> {
  return (record, partitionCount, context) =>
    record.keyBytes === null
      ? fallback(record, partitionCount, context)
      : murmur2Partition(record.keyBytes, partitionCount);
}

/** Options of {@link uniformSticky}. */
export interface UniformStickyOptions {
  /**
   * Prefer partitions with less queued data when switching (KIP-794's adaptive partitioning),
   * so a slow partition gets fewer new records.
   * @default true
   */
  readonly adaptive?: boolean;
  /** The source of randomness, `[0, 1)`. For tests. @default Math.random */
  readonly random?: () => number;
}

/**
 * Uniform sticky partitioning for records without a key (KIP-794): stay on one partition until
 * `batchBytes` have been put on it, then switch to another one, chosen at random, weighted
 * towards partitions whose queue is shorter when `adaptive`. Fewer, larger batches than
 * round-robin, and the load still evens out. Keyed records are hashed with murmur2.
 */
function uniformSticky<K, V>(options: UniformStickyOptions = {}): Partitioner<K, V> {
  const adaptive = options.adaptive ?? true;
  const random = options.random ?? Math.random;
  const state = new Map<string, { partition: number; bytes: number }>();

  const pickNext = (current: number, partitionCount: number, context: PartitionerContext): number => {
    if (partitionCount <= 1) return 0;
    const candidates: number[] = [];
    for (let p = 0; p < partitionCount; p++) if (p !== current) candidates.push(p);
    if (!adaptive) return candidates[Math.floor(random() * candidates.length)] ?? 0;
    const queued = candidates.map((p) => context.queuedBytes(p));
    const most = Math.max(...queued);
    // Weight each candidate by how much less it has queued than the most loaded one (+1 so an
    // all-equal set is uniform).
    const weights = queued.map((q) => most - q + 1);
    const total = weights.reduce((a, b) => a + b, 0);
    let pick = random() * total;
    for (let i = 0; i < candidates.length; i++) {
      pick -= weights[i] ?? 0;
      if (pick < 0) return candidates[i] ?? 0;
    }
    return candidates[candidates.length - 1] ?? 0;
  };

  const sticky: Partitioner<K, V> = (record, partitionCount, context) => {
    let entry = state.get(record.topic);
    if (entry === undefined || entry.partition >= partitionCount) {
      entry = { partition: Math.floor(random() * partitionCount), bytes: 0 };
      state.set(record.topic, entry);
    } else if (entry.bytes >= context.batchBytes) {
      entry.partition = pickNext(entry.partition, partitionCount, context);
      entry.bytes = 0;
    }
    entry.bytes += record.sizeBytes;
    return entry.partition;
  };
  return murmur2Keyed(sticky);
}

/** Round-robin per record across partitions (kafkajs' behaviour for null keys). Ignores keys. */
function roundRobin<K, V>(): Partitioner<K, V> {
  const counters = new Map<string, number>();
  return (record, partitionCount) => {
    const next = counters.get(record.topic) ?? 0;
    counters.set(record.topic, next + 1);
    return next % partitionCount;
  };
}

/**
 * Partitions by a field of the value (e.g. the customer id of an order), hashed with murmur2
 * like a key, so records with the same field value land on the same partition as records keyed
 * by that value. When `field` returns `null`/`undefined`, the record is placed uniform-sticky.
 */
function keyField<V>(
  field: (value: V) => string | Buffer | number | null | undefined,
): Partitioner<unknown, V> {
  const fallback = uniformSticky<unknown, V>();
  return (record, partitionCount, context) => {
    // A tombstone (null value) has no field to read.
    const selected = record.value === null ? undefined : field(record.value);
    if (selected === null || selected === undefined) return fallback(record, partitionCount, context);
    const bytes = Buffer.isBuffer(selected) ? selected : Buffer.from(String(selected), 'utf8');
    return murmur2Partition(bytes, partitionCount);
  };
}

/** murmur2 for keyed records (Java-compatible); uniform sticky for records without a key. */
function defaultPartitioner<K, V>(): Partitioner<K, V> {
  return uniformSticky<K, V>();
}

/** murmur2 for keyed records; `fallback` (round-robin unless given) for null keys. */
function murmur2<K, V>(fallback: Partitioner<K, V> = roundRobin<K, V>()): Partitioner<K, V> {
  return murmur2Keyed(fallback);
}

/**
 * The built-in partitioners. Each call creates a fresh one with its own state.
 *
 * @example
 * ```ts
 * createProducer({ ..., value: json<Order>(), partitioner: Partitioners.keyField((o: Order) => o.customerId) });
 * ```
 */
export const Partitioners = {
  /** The default: murmur2 for keyed records, uniform sticky for the rest. */
  default: defaultPartitioner,
  /** murmur2 for keyed records (Java's choice); round-robin (or `fallback`) for null keys. */
  murmur2,
  /** Partition by a field of the value, hashed with murmur2. */
  keyField,
  /** KIP-794 uniform sticky for null keys; murmur2 for keyed records. */
  uniformSticky,
  /** Round-robin per record, ignoring keys. */
  roundRobin,
} as const;
