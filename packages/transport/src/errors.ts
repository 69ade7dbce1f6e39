/**
 * The errors a transport reports. A transport turns every error of its client into a
 * {@link TransportError} at its boundary: the Kafka protocol error name when the broker sent
 * one, else a {@link TransportErrorKind}, and whether trying again may succeed. The producer,
 * consumer and saga map these to their own errors in one table each; no client's error class
 * crosses the seam (it stays as `cause`).
 * @module
 */

import { brandErrorClass, CascadeError, type CascadeErrorOptions } from '@cascade/core';
import type { ProduceResult } from './records.js';

/** The codes of the errors declared in `@cascade/transport`. */
export const TransportErrorCodes = {
  Transport: 'CASCADE_TRANSPORT',
} as const;

/** One of {@link TransportErrorCodes}. */
export type TransportErrorCode = (typeof TransportErrorCodes)[keyof typeof TransportErrorCodes];

/**
 * What went wrong, when the broker sent no protocol error (or with it, `protocol`):
 * - `protocol`: the broker answered with the error {@link TransportError.kafkaType} names;
 * - `connection`: no connection to a broker (refused, closed, no broker available);
 * - `timeout`: a request or a lock timed out;
 * - `authentication`: SASL failed;
 * - `metadata`: the client's metadata was missing or stale (retriable);
 * - `unknown`: anything else (a bug, a client's internal error).
 */
export type TransportErrorKind =
  | 'protocol'
  | 'connection'
  | 'timeout'
  | 'authentication'
  | 'metadata'
  | 'unknown';

/** Context of a {@link TransportError}. */
export interface TransportErrorOptions extends CascadeErrorOptions {
  readonly kind: TransportErrorKind;
  /** The Kafka protocol error name (`NOT_LEADER_OR_FOLLOWER`, `UNKNOWN_TOPIC_OR_PARTITION`...). */
  readonly kafkaType?: string;
  readonly retriable: boolean;
  /** The transport that reported it (`kafkajs`). */
  readonly transport: string;
}

/** An error of the Kafka client under Cascade, classified. */
export class TransportError extends CascadeError {
  readonly code = TransportErrorCodes.Transport;
  readonly kind: TransportErrorKind;
  /** The Kafka protocol error name, when the broker sent one (or the client named the condition so). */
  readonly kafkaType: string | undefined;
  readonly transport: string;

  constructor(message: string, options: TransportErrorOptions) {
    super(message, options.retriable, options);
    this.kind = options.kind;
    this.kafkaType = options.kafkaType;
    this.transport = options.transport;
  }
}
brandErrorClass(TransportError, '@cascade/transport');

/** Whether `value` is a {@link TransportError} (from any installed copy). */
export function isTransportError(value: unknown): value is TransportError {
  return value instanceof TransportError;
}

/**
 * A produce request in which the brokers stored some batches (`acknowledged`) and failed the
 * others with `error` (a request the client split across brokers after a leader moved). The
 * producer settles the stored batches and retries or fails only the others, so a batch a broker
 * acknowledged never goes out again (with idempotence it would get the next sequence number and
 * be stored twice).
 */
export class PartialProduceFailure extends Error {
  override readonly name = 'PartialProduceFailure';
  /** The batches the brokers stored, with their results. */
  readonly acknowledged: readonly ProduceResult[];
  /** Why the other batches were not stored. */
  readonly error: unknown;

  constructor(acknowledged: readonly ProduceResult[], error: unknown) {
    super(
      `${acknowledged.length} batch(es) stored, the others failed: ${(error as Error)?.message ?? String(error)}`,
    );
    this.acknowledged = acknowledged;
    this.error = error;
  }
}
