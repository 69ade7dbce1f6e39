/**
 * The records the producer takes and the metadata it returns.
 * @module
 */

import type { Headers } from '@cascade/schema';

/** A record to send. `K` and `V` come from the producer's serdes. */
export interface ProducerRecord<K, V> {
  /** The topic. Defaults to the producer's `defaultTopic`; one of the two is required. */
  readonly topic?: string;
  /** The key. `null` or absent: no key (placed by the null-key partitioner). */
  readonly key?: K | null;
  /**
   * The value. At run time `null` is sent as a tombstone (a delete marker on compacted topics)
   * without calling the serde; give the producer a `Serde<T | null>` to send tombstones without
   * a cast. Partitioners and interceptors then see `null`.
   */
  readonly value: V;
  /** Headers. Strings are sent as UTF-8. */
  readonly headers?: Headers;
  /** An explicit partition: skips the partitioner. */
  readonly partition?: number;
  /** The record's timestamp (CreateTime), epoch milliseconds or a Date. @default Date.now() */
  readonly timestamp?: number | Date;
}

/** A record after interceptors ran: the topic is known. */
export interface OutgoingRecord<K, V> extends ProducerRecord<K, V> {
  readonly topic: string;
}

/** Where the broker stored a record. */
export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset, as Kafka's decimal string (`'-1'` with `acks: 0`). */
  readonly offset: string;
  /** The record's timestamp in epoch ms: LogAppendTime when the topic uses it, else CreateTime. */
  readonly timestamp: number;
}

/** Options of a single call that waits. */
export interface SendOptions {
  /**
   * Stops waiting for buffer space: the send rejects with `AbortedError`. A record already
   * handed to the broker is not recalled.
   */
  readonly signal?: AbortSignal;
}
