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
  /**
   * Wraps the whole send, Temporal-style: call `next(record)` (with the record or a changed one)
   * and return its result, or do something around it (time it, tag it). The first interceptor
   * is the outermost; all run after every `onSend`. An interceptor that throws or rejects
   * *before* calling `next` is logged and the record is sent unchanged; after `next`, its error
   * is the send's error. Awaiting something before `next` lets later sends overtake this one.
   */
  send?(
    record: OutgoingRecord<K, V>,
    next: (record: OutgoingRecord<K, V>) => Promise<RecordMetadata>,
  ): Promise<RecordMetadata>;
}

/** The composed `send` interceptors: `(record, core) => core's result, wrapped`. */
export type SendChain<K, V> = (
  record: OutgoingRecord<K, V>,
  core: (record: OutgoingRecord<K, V>) => Promise<RecordMetadata>,
) => Promise<RecordMetadata>;

/**
 * Builds the chain of `send` interceptors, or returns undefined when no interceptor has one
 * (so the common case costs nothing).
 */
export function composeSend<K, V>(
  interceptors: readonly ProducerInterceptor<K, V>[],
  logger: Logger,
): SendChain<K, V> | undefined {
  const around: Array<{
    readonly index: number;
    readonly send: NonNullable<ProducerInterceptor<K, V>['send']>;
    readonly name: string;
  }> = [];
  interceptors.forEach((interceptor, index) => {
    const send = interceptor.send?.bind(interceptor);
    if (send !== undefined) around.push({ index, send, name: nameOf(interceptor, index) });
  });
  if (around.length === 0) return undefined;
  return (record, core) => {
    const call = (position: number, current: OutgoingRecord<K, V>): Promise<RecordMetadata> => {
      const entry = around[position];
      if (entry === undefined) return core(current);
      let nextCalled = false;
      const next = (changed: OutgoingRecord<K, V>): Promise<RecordMetadata> => {
        nextCalled = true;
        return call(position + 1, changed);
      };
      const recover = (error: unknown): Promise<RecordMetadata> => {
        if (nextCalled) return Promise.reject(error);
        logger.warn('Producer interceptor send threw before next(); the record goes on unchanged.', {
          interceptor: entry.name,
          topic: current.topic,
          error,
        });
        return call(position + 1, current);
      };
      try {
        return entry.send(current, next).catch(recover);
      } catch (error) {
        return recover(error);
      }
    };
    return call(0, record);
  };
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
