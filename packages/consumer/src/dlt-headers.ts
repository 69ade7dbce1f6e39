/**
 * The headers a dead-lettered (or retry-topic) record carries: Cascade's own, and Spring Kafka's
 * (`kafka_dlt-*`, with its binary encodings), so Java teams' tooling reads and replays them.
 * @module
 */

import type { Headers } from '@cascade/schema';

/** The header names Cascade writes on dead-lettered records. */
export const DltHeaders = {
  originalTopic: 'cascade-dlt-original-topic',
  originalPartition: 'cascade-dlt-original-partition',
  originalOffset: 'cascade-dlt-original-offset',
  originalTimestamp: 'cascade-dlt-original-timestamp',
  originalConsumerGroup: 'cascade-dlt-original-consumer-group',
  errorClass: 'cascade-dlt-error-class',
  errorCode: 'cascade-dlt-error-code',
  errorMessage: 'cascade-dlt-error-message',
  errorStack: 'cascade-dlt-error-stack',
  attempts: 'cascade-dlt-attempts',
  failedAt: 'cascade-dlt-failed-at',
} as const;

/** Spring Kafka's dead-letter header names (`KafkaHeaders.DLT_*`). */
export const SpringDltHeaders = {
  originalTopic: 'kafka_dlt-original-topic',
  /** 4-byte big-endian int. */
  originalPartition: 'kafka_dlt-original-partition',
  /** 8-byte big-endian long. */
  originalOffset: 'kafka_dlt-original-offset',
  /** 8-byte big-endian long (epoch ms). */
  originalTimestamp: 'kafka_dlt-original-timestamp',
  /** `CreateTime` or `LogAppendTime`. */
  originalTimestampType: 'kafka_dlt-original-timestamp-type',
  originalConsumerGroup: 'kafka_dlt-original-consumer-group',
  exceptionFqcn: 'kafka_dlt-exception-fqcn',
  exceptionCauseFqcn: 'kafka_dlt-exception-cause-fqcn',
  exceptionMessage: 'kafka_dlt-exception-message',
  exceptionStacktrace: 'kafka_dlt-exception-stacktrace',
} as const;

/** The headers that carry a record through retry topics. */
export const RetryHeaders = {
  /** The attempts made so far, as a decimal string. */
  attempts: 'cascade-retry-attempts',
  /** Epoch ms before which the record must not be handled again. */
  dueAt: 'cascade-retry-due-at',
  originalTopic: 'cascade-retry-original-topic',
  originalPartition: 'cascade-retry-original-partition',
  originalOffset: 'cascade-retry-original-offset',
  originalTimestamp: 'cascade-retry-original-timestamp',
  /** `CreateTime` or `LogAppendTime`: the original record's timestamp type. */
  originalTimestampType: 'cascade-retry-original-timestamp-type',
} as const;

/** Kafka's timestamp types, as Spring writes them (`TimestampType.toString()`). */
export type TimestampType = 'CreateTime' | 'LogAppendTime';

/** Where a failed record originally came from (its first topic, before any retry topic). */
export interface OriginalRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Epoch ms. */
  readonly timestamp: number;
  /**
   * Whether `timestamp` is the producer's (`CreateTime`) or the broker's (`LogAppendTime`, on a
   * topic with `message.timestamp.type=LogAppendTime`).
   * @default 'CreateTime'
   */
  readonly timestampType?: TimestampType;
}

/** What {@link buildDltHeaders} needs. */
export interface DltHeaderInput {
  readonly original: OriginalRecord;
  readonly groupId: string;
  readonly error: unknown;
  /** Attempts made in all, the first included. */
  readonly attempts: number;
  /** When the record was given up on (epoch ms). */
  readonly failedAt: number;
  /** Longest stack trace kept, in characters (a truncated one ends in `…`, counted). @default 4000 */
  readonly maxStackChars?: number;
  /** The record's own headers, copied first (Cascade retry headers are dropped). */
  readonly headers?: Headers;
}

/** Encodes a 32-bit big-endian int, as Spring writes the original partition. */
export function int32BE(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

/** Encodes a 64-bit big-endian long, as Spring writes the original offset and timestamp. */
export function int64BE(value: bigint | number | string): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(value));
  return buffer;
}

function describeError(error: unknown): {
  name: string;
  code: string;
  message: string;
  stack: string;
  causeName: string;
} {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause;
    return {
      name: error.name,
      code: typeof code === 'string' ? code : '',
      message: error.message,
      stack: error.stack ?? `${error.name}: ${error.message}`,
      causeName: cause instanceof Error ? cause.name : '',
    };
  }
  const text = String(error);
  return { name: typeof error, code: '', message: text, stack: text, causeName: '' };
}

/** The record's headers without Cascade's retry bookkeeping. */
export function withoutRetryHeaders(headers: Headers | undefined): Headers {
  const out: Headers = {};
  const retryNames = new Set<string>(Object.values(RetryHeaders));
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!retryNames.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

/** Builds the headers of a dead-lettered record: the record's own, Cascade's and Spring's. */
export function buildDltHeaders(input: DltHeaderInput): Headers {
  const { original } = input;
  const error = describeError(input.error);
  const maxStack = input.maxStackChars ?? 4000;
  const stack =
    error.stack.length > maxStack ? `${error.stack.slice(0, Math.max(0, maxStack - 1))}…` : error.stack;
  const headers: Headers = {
    ...withoutRetryHeaders(input.headers),
    [DltHeaders.originalTopic]: original.topic,
    [DltHeaders.originalPartition]: String(original.partition),
    [DltHeaders.originalOffset]: original.offset,
    [DltHeaders.originalTimestamp]: String(original.timestamp),
    [DltHeaders.originalConsumerGroup]: input.groupId,
    [DltHeaders.errorClass]: error.name,
    [DltHeaders.errorMessage]: error.message,
    [DltHeaders.errorStack]: stack,
    [DltHeaders.attempts]: String(input.attempts),
    [DltHeaders.failedAt]: String(input.failedAt),
    [SpringDltHeaders.originalTopic]: original.topic,
    [SpringDltHeaders.originalPartition]: int32BE(original.partition),
    [SpringDltHeaders.originalOffset]: int64BE(original.offset),
    [SpringDltHeaders.originalTimestamp]: int64BE(original.timestamp),
    [SpringDltHeaders.originalTimestampType]: original.timestampType ?? 'CreateTime',
    [SpringDltHeaders.originalConsumerGroup]: input.groupId,
    [SpringDltHeaders.exceptionFqcn]: error.name,
    [SpringDltHeaders.exceptionMessage]: error.message,
    [SpringDltHeaders.exceptionStacktrace]: stack,
  };
  if (error.code !== '') headers[DltHeaders.errorCode] = error.code;
  if (error.causeName !== '') headers[SpringDltHeaders.exceptionCauseFqcn] = error.causeName;
  return headers;
}

/** Builds the headers of a record forwarded to a retry topic. */
export function buildRetryHeaders(
  original: OriginalRecord,
  headers: Headers | undefined,
  attempts: number,
  dueAt: number,
): Headers {
  return {
    ...withoutRetryHeaders(headers),
    [RetryHeaders.attempts]: String(attempts),
    [RetryHeaders.dueAt]: String(dueAt),
    [RetryHeaders.originalTopic]: original.topic,
    [RetryHeaders.originalPartition]: String(original.partition),
    [RetryHeaders.originalOffset]: original.offset,
    [RetryHeaders.originalTimestamp]: String(original.timestamp),
    [RetryHeaders.originalTimestampType]: original.timestampType ?? 'CreateTime',
  };
}

function headerText(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Reads the retry bookkeeping of a record from a retry topic; `undefined` for a first delivery. */
export function readRetryHeaders(
  headers: Headers,
): { original: OriginalRecord; attempts: number; dueAt: number } | undefined {
  const topic = headerText(headers, RetryHeaders.originalTopic);
  const attempts = Number(headerText(headers, RetryHeaders.attempts));
  if (topic === undefined || !Number.isInteger(attempts)) return undefined;
  return {
    original: {
      topic,
      partition: Number(headerText(headers, RetryHeaders.originalPartition) ?? -1),
      offset: headerText(headers, RetryHeaders.originalOffset) ?? '-1',
      timestamp: Number(headerText(headers, RetryHeaders.originalTimestamp) ?? 0),
      timestampType:
        headerText(headers, RetryHeaders.originalTimestampType) === 'LogAppendTime'
          ? 'LogAppendTime'
          : 'CreateTime',
    },
    attempts,
    dueAt: Number(headerText(headers, RetryHeaders.dueAt) ?? 0),
  };
}
