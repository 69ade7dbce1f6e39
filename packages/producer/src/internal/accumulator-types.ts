/**
 * The types the accumulator works with: records on the wire, batches, the sink, options, stats.
 * @module
 */

import type { Logger, ResolvedRetryPolicy } from '@cascade/core';
import type { ProduceBatch, ProduceResult, WireRecord } from '@cascade/transport';
import type { ProducerError } from '../errors.js';
import type { RecordMetadata } from '../types.js';

export type { WireRecord } from '@cascade/transport';
/** One batch handed to the sink. */
export type SinkBatch = ProduceBatch;
/** The broker's answer for one batch. */
export type SinkResult = ProduceResult;
/** A sink call in which the brokers stored some batches and failed the others (see the seam). */
export { PartialProduceFailure as PartialSinkFailure } from '@cascade/transport';

/**
 * Sends batches (all led by one broker, as far as the producer knows) in one request. Resolves
 * with a result for every batch. Rejects with the error when nothing was stored, or with a
 * {@link PartialSinkFailure} naming the batches the broker did store when others failed (a
 * request the client split across brokers after a leader moved): those must never be sent again.
 */
export type Sink = (batches: readonly SinkBatch[]) => Promise<readonly SinkResult[]>;

/** Settings of an `Accumulator`. */
export interface AccumulatorOptions {
  readonly lingerMs: number;
  readonly batchBytes: number;
  readonly bufferMemoryBytes: number;
  readonly maxBlockMs: number;
  readonly maxInFlight: number;
  readonly deliveryTimeoutMs: number;
  readonly retryBackoff: ResolvedRetryPolicy;
  readonly sink: Sink;
  /** The broker id leading a partition, for grouping and in-flight limits; undefined if unknown. */
  readonly leaderOf: (topic: string, partition: number) => number | undefined;
  /** Turns a sink failure into a producer error for the batch. */
  readonly toError: (error: unknown, batch: { topic: string; partition: number }) => ProducerError;
  /** Whether a failed batch should be sent again (before its delivery timeout). */
  readonly shouldRetry: (error: ProducerError) => boolean;
  /** Called on each failed request, e.g. to refresh metadata. */
  readonly onRequestError?: (error: ProducerError, batches: readonly SinkBatch[]) => void;
  readonly logger: Logger;
  /** For tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * Who hears how each record ended. One receiver can serve many records (a `sendBatch()`), told
 * apart by `index`, so a batch of 1,000 records needs no promise per record.
 */
export interface Receiver {
  resolved(index: number, metadata: RecordMetadata): void;
  rejected(index: number, error: ProducerError): void;
}

export interface Pending {
  readonly record: WireRecord;
  readonly receiver: Receiver;
  readonly index: number;
}

export interface Batch {
  readonly topic: string;
  readonly partition: number;
  readonly pending: Pending[];
  bytes: number;
  readonly createdAt: number;
  /** Full: no more records go in. */
  closed: boolean;
  /** Asked for by flush/close: ready whatever its age. */
  forced: boolean;
  /** Send alone (after a multi-batch request failed). */
  isolate: boolean;
  attempts: number;
  retryAt: number;
  readonly done: Promise<void>;
  readonly markDone: () => void;
}

export interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  readonly batches: Batch[];
  inFlight: boolean;
  queuedBytes: number;
}

/** Where a record goes, decided when it is admitted to the buffer (so sticky sees current state). */
export interface Placement {
  readonly topic: string;
  readonly partition: number;
}

/** Counters for tests, benchmarks and metrics. */
export interface AccumulatorStats {
  /** Produce requests sent (including retries). */
  readonly requests: number;
  /** Batches sent (including retries). */
  readonly batches: number;
  /** Batches retried. */
  readonly retries: number;
  /** Bytes queued or in flight. */
  readonly bufferedBytes: number;
  /** Records queued or in flight. */
  readonly bufferedRecords: number;
}

/** Offsets of a batch's records as strings: plain numbers while safe, BigInt beyond 2^53. */
export function offsetsFrom(baseOffset: string, count: number): (index: number) => string {
  if (baseOffset === '-1') return () => '-1';
  const base = Number(baseOffset);
  if (Number.isSafeInteger(base + count)) return (index) => String(base + index);
  const big = BigInt(baseOffset);
  return (index) => (big + BigInt(index)).toString();
}
