/**
 * From a fetched record to a typed message: shared by the per-record fast path, the general
 * path and the batch runner.
 * @module
 */

import type { Headers } from '@cascade/schema';
import type { FetchedRecord } from '@cascade/transport';
import type { OriginalRecord, TimestampType } from '../dlt-headers.js';
import type { Message } from '../types.js';
import type { Source } from './record-processor.js';

/** A record's key and value as its serdes returned them: values, or promises for asynchronous serdes. */
export interface DecodedRecord {
  readonly key: unknown;
  readonly value: unknown;
}

/**
 * Runs the key and value serdes of a raw record (a null key or value stays null). Throws what a
 * synchronous serde throws; an asynchronous serde's result is a promise, left to the caller.
 */
export function deserializeRecord(source: Source, raw: FetchedRecord, headers: Headers): DecodedRecord {
  const { subscription, topic, partition } = source;
  const offset = raw.offset;
  const key =
    raw.key === null
      ? null
      : subscription.key.deserialize(raw.key, { topic, headers, partition, offset, isKey: true });
  const value =
    raw.value === null
      ? null
      : subscription.value.deserialize(raw.value, { topic, headers, partition, offset, isKey: false });
  return { key, value };
}

/** The typed message of a raw record whose key and value are decoded. */
export function buildMessage(
  source: Source,
  raw: FetchedRecord,
  headers: Headers,
  decoded: DecodedRecord,
  attempt: number,
  original: Message<unknown, unknown>['original'],
  signal: AbortSignal,
): Message<unknown, unknown> {
  return {
    topic: source.topic,
    partition: source.partition,
    offset: raw.offset,
    key: decoded.key,
    value: decoded.value,
    headers,
    timestamp: Number(raw.timestamp),
    attempt,
    original,
    signal,
  };
}

/**
 * `raw` as the original of a dead letter or retry record (a first delivery: its own
 * coordinates). `timestampType` is its batch's, as the transport's consumer reports it.
 */
export function originalOf(source: Source, raw: FetchedRecord, timestampType: TimestampType): OriginalRecord {
  return {
    topic: source.topic,
    partition: source.partition,
    offset: raw.offset,
    timestamp: Number(raw.timestamp),
    timestampType,
  };
}
