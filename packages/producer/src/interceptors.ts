/**
 * Interceptors, as the Java client has them: `onSend` may change each record before it is
 * serialized (add headers, say), `onAcknowledgement` sees the outcome of each record. An
 * interceptor that throws is logged and skipped: the record goes on unchanged, never lost.
 * @module
 */

import type { Logger } from '@cascade/core';
import type { OutgoingRecord, RecordMetadata } from './types.js';

/** Facts about an acknowledged (or failed) record, measured by the producer. */
export interface AcknowledgementInfo {
  /** Milliseconds from `send()` to the outcome. */
  readonly latencyMs: number;
  /** The serialized size of the record (key + value + headers), in bytes; 0 if serialization failed. */
  readonly sizeBytes: number;
}

/**
 * Hooks around each record. Both are synchronous, like the Java client's: keep them cheap.
 *
 * @example
 * ```ts
 * const tagging: ProducerInterceptor<string, Order> = {
 *   name: 'tagging',
 *   onSend: (record) => ({ ...record, headers: { ...record.headers, service: 'orders' } }),
 *   onAcknowledgement: (outcome) => { if (outcome instanceof Error) alert(outcome); },
 * };
 * ```
 */
export interface ProducerInterceptor<K = unknown, V = unknown> {
  /** Used in log lines when the interceptor throws. @default 'interceptor #<index>' */
  readonly name?: string;
  /** Returns the record to send (the same one, or a changed copy). Runs in `send()`, in order. */
  onSend?(record: OutgoingRecord<K, V>): OutgoingRecord<K, V>;
  /** Sees the metadata of a stored record, or the error it failed with. */
  onAcknowledgement?(
    outcome: RecordMetadata | Error,
    record: OutgoingRecord<K, V>,
    info: AcknowledgementInfo,
  ): void;
}

const nameOf = (interceptor: { readonly name?: string }, index: number): string =>
  interceptor.name ?? `interceptor #${index}`;

/** Runs the `onSend` chain; a throwing interceptor (or one returning nothing) is logged and skipped. */
export function runOnSend<K, V>(
  interceptors: readonly ProducerInterceptor<K, V>[],
  record: OutgoingRecord<K, V>,
  logger: Logger,
): OutgoingRecord<K, V> {
  let current = record;
  for (let index = 0; index < interceptors.length; index++) {
    const interceptor = interceptors[index];
    if (interceptor?.onSend === undefined) continue;
    try {
      const next = interceptor.onSend(current);
      if (typeof next !== 'object' || next === null || typeof next.topic !== 'string') {
        logger.warn('Producer interceptor onSend returned no record; the record goes on unchanged.', {
          interceptor: nameOf(interceptor, index),
          topic: current.topic,
        });
        continue;
      }
      current = next;
    } catch (error) {
      logger.warn('Producer interceptor onSend threw; the record goes on unchanged.', {
        interceptor: nameOf(interceptor, index),
        topic: current.topic,
        error,
      });
    }
  }
  return current;
}

/** Runs every `onAcknowledgement`; one that throws is logged and the others still run. */
export function runOnAcknowledgement<K, V>(
  interceptors: readonly ProducerInterceptor<K, V>[],
  outcome: RecordMetadata | Error,
  record: OutgoingRecord<K, V>,
  info: AcknowledgementInfo,
  logger: Logger,
): void {
  for (let index = 0; index < interceptors.length; index++) {
    const interceptor = interceptors[index];
    if (interceptor?.onAcknowledgement === undefined) continue;
    try {
      interceptor.onAcknowledgement(outcome, record, info);
    } catch (error) {
      logger.warn('Producer interceptor onAcknowledgement threw; ignored.', {
        interceptor: nameOf(interceptor, index),
        topic: record.topic,
        error,
      });
    }
  }
}
