/**
 * The records a handler receives and the shapes of handlers, subscriptions and interceptors.
 * @module
 */

import type { RetryPolicy } from '@cascade/core';
import type { Headers, Serde } from '@cascade/schema';

/** One consumed record, deserialized. `K` and `V` come from the subscription's serdes. */
export interface Message<K, V> {
  readonly topic: string;
  readonly partition: number;
  /** Kafka's offset as a decimal string (64-bit safe). */
  readonly offset: string;
  /** The key; `null` when the record has none. */
  readonly key: K | null;
  readonly value: V;
  readonly headers: Headers;
  /** The record's timestamp, epoch milliseconds. */
  readonly timestamp: number;
  /**
   * Which attempt this is, from 1: in-place retries and retry topics count up; a record from a
   * retry topic carries the attempts made before it.
   */
  readonly attempt: number;
  /**
   * Where the record first arrived, when it comes from a retry topic; otherwise this record's own
   * topic, partition and offset.
   */
  readonly original: { readonly topic: string; readonly partition: number; readonly offset: string };
  /** Aborted when the handler times out (`handlerTimeoutMs`) or the consumer stops past its deadline. */
  readonly signal: AbortSignal;
}

/** A record to send from a handler in exactly-once mode: bytes, or strings sent as UTF-8. */
export interface OutputRecord {
  readonly topic: string;
  /** @default null */
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  /** @default {} (the record being handled carries its `traceparent` on) */
  readonly headers?: Headers;
  /** An explicit partition. @default chosen by the producer's partitioner */
  readonly partition?: number;
}

/** What a handler gets besides the message. */
export interface HandlerContext {
  /**
   * Exactly-once mode only: queues a record into the transaction that also commits this
   * record's offset. Records queued by an attempt that throws are discarded.
   */
  send(record: OutputRecord): void;
  /**
   * Exactly-once mode only: runs `callback` once the transaction that commits this record's
   * offset (and its sends) has committed; never if it aborts (the record is then read again).
   * For side effects that must follow the recorded decision, never precede it.
   */
  afterCommit(callback: () => void): void;
}

/** A handler of single records. */
export type MessageHandler<K, V> = (message: Message<K, V>, context: HandlerContext) => Promise<void> | void;

/**
 * A handler of batches (all fetched records of one partition, in order; on a retry topic, those
 * that are due). A batch that throws is retried in place as a whole, then each of its records
 * goes to the next retry topic or the DLT. In exactly-once mode `context.send` and
 * `context.afterCommit` work as for a record handler, for the whole batch's transaction.
 */
export type BatchHandler<K, V> = (
  messages: readonly Message<K, V>[],
  context: HandlerContext,
) => Promise<void> | void;

/** An error class, or an error `name` / `code`. */
export type ErrorMatcher = string | (abstract new (...args: never[]) => Error);

/** Where dead letters go. */
export interface DltOptions {
  /**
   * The dead-letter topic: a name, a function of the source topic, or the naming style:
   * `'dot'` gives `<topic>.dlt`, `'spring'` gives `<topic>-dlt` (Spring Kafka 3.3).
   * @default 'dot'
   */
  readonly topic?: string | ((topic: string) => string) | 'dot' | 'spring';
}

/** Retry topics: each failed record goes on to the next `<topic>.retry.<n>` after its delay. */
export interface RetryTopicsOptions {
  /** One delay per retry topic, in milliseconds: `[1000, 10000]` makes `.retry.1` and `.retry.2`. */
  readonly delaysMs: readonly number[];
}

/** How a subscription's handler runs. */
export type ConcurrencyMode = 'partition' | 'key';

/** What to consume and how to handle it. Give exactly one of `topic`, `topics`, `pattern`. */
/**
 * What a subscription does with a tombstone (a record whose value is null: a deletion in a
 * compacted topic): `'handle'` gives it to the handler, whose `message.value` is then typed
 * `V | null`; `'skip'` commits it without calling the handler (logged at debug), and the
 * handler's `message.value` is `V`.
 */
export type TombstoneMode = 'handle' | 'skip';

/** A handler's value type under a {@link TombstoneMode}. */
export type HandledValue<V, T extends TombstoneMode> = T extends 'skip' ? V : V | null;

export interface SubscriptionOptions<K, V, T extends TombstoneMode = 'handle'> {
  /** One topic. @default undefined */
  readonly topic?: string;
  /** Several topics. @default undefined */
  readonly topics?: readonly string[];
  /** Every existing topic whose name matches (resolved when the consumer starts). @default undefined */
  readonly pattern?: RegExp;
  /** The key serde. @default a UTF-8 string serde */
  readonly key?: Serde<K>;
  /** The value serde. Required. */
  readonly value: Serde<V>;
  /**
   * The record handler. Give this or `batchHandler`. `message.value` is `V | null` (a
   * tombstone) unless `tombstones` is `'skip'`. @default undefined
   */
  readonly handler?: MessageHandler<K, HandledValue<V, T>>;
  /** The batch handler (partition mode only). Give this or `handler`. @default undefined */
  readonly batchHandler?: BatchHandler<K, HandledValue<V, T>>;
  /**
   * Tombstones (null values): `'handle'` hands them to the handler (`message.value` is
   * `V | null`), `'skip'` commits them without calling it (`message.value` is `V`).
   * @default 'handle'
   */
  readonly tombstones?: T;
  /**
   * `'partition'`: one record at a time per partition, partitions in parallel. `'key'`: in
   * order per key, parallel across keys (up to `maxConcurrency` per partition); not with the
   * consumer's `eos` option (`subscribe()` throws a `ConfigError`).
   * @default 'partition'
   */
  readonly concurrency?: ConcurrencyMode;
  /**
   * Key mode: records handled at once per partition.
   * @default 16
   */
  readonly maxConcurrency?: number;
  /**
   * In-place retries of a failed record (attempts in all, the first included).
   * @default { maximumAttempts: 3, initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 5000, jitter: 0.2 }
   */
  readonly retry?: RetryPolicy;
  /** Retry topics after the in-place retries. @default undefined (none) */
  readonly retryTopics?: RetryTopicsOptions;
  /**
   * The dead-letter topic, or `false` to stop the partition instead of dead-lettering (nothing
   * is ever dropped).
   * @default { topic: 'dot' }
   */
  readonly dlt?: DltOptions | false;
  /**
   * Errors that are never retried (go to the DLT at once), besides Cascade errors with
   * `retriable: false`, `SendToDlt` and undeserializable records.
   * @default ['TypeError', 'ReferenceError', 'SyntaxError', 'RangeError']
   */
  readonly nonRetryableErrors?: readonly ErrorMatcher[];
}

/** Offsets committed for one partition: `offset` is the next one to read. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Interceptors see every record before its handler and every commit after it. Java-style hooks;
 * an interceptor that throws is logged and skipped.
 */
export interface ConsumerInterceptor {
  /** Returns the record to handle (possibly changed), or `undefined` to filter it out (counted as handled). */
  onConsume?<K, V>(message: Message<K, V>): Message<K, V> | undefined | Promise<Message<K, V> | undefined>;
  /** Called after offsets were committed. */
  onCommit?(offsets: readonly CommittedOffset[]): void | Promise<void>;
}

/** A topic-partition. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}
