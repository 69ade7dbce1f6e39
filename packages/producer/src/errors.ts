/**
 * The errors of `@cascade/producer`. Each has a stable `code` and says whether retrying the same
 * send may succeed (`retriable`). kafkajs errors never escape: {@link toProducerError} turns
 * them into one of these from a single table (see `internal/error-mapping.ts`).
 * @module
 */

import { brandErrorClass, CascadeError, type CascadeErrorOptions } from '@cascade/core';

/** The codes of the errors declared in `@cascade/producer`. */
export const ProducerErrorCodes = {
  Retriable: 'CASCADE_PRODUCER_RETRIABLE',
  Fatal: 'CASCADE_PRODUCER_FATAL',
  Connection: 'CASCADE_PRODUCER_CONNECTION',
  Authentication: 'CASCADE_PRODUCER_AUTHENTICATION',
  Authorization: 'CASCADE_PRODUCER_AUTHORIZATION',
  RecordTooLarge: 'CASCADE_PRODUCER_RECORD_TOO_LARGE',
  UnknownTopic: 'CASCADE_PRODUCER_UNKNOWN_TOPIC',
  DeliveryTimeout: 'CASCADE_PRODUCER_DELIVERY_TIMEOUT',
  NotEnoughReplicas: 'CASCADE_PRODUCER_NOT_ENOUGH_REPLICAS',
  Fenced: 'CASCADE_PRODUCER_FENCED',
  BufferFull: 'CASCADE_PRODUCER_BUFFER_FULL',
  CircuitOpen: 'CASCADE_PRODUCER_CIRCUIT_OPEN',
  Serialization: 'CASCADE_PRODUCER_SERIALIZATION',
  TransactionState: 'CASCADE_PRODUCER_TRANSACTION_STATE',
} as const;

/** One of {@link ProducerErrorCodes}. */
export type ProducerErrorCode = (typeof ProducerErrorCodes)[keyof typeof ProducerErrorCodes];

/** Where a producer error happened. Every field is optional: a connect error has no topic. */
export interface ProducerErrorContext extends CascadeErrorOptions {
  /** The topic of the failed record or batch. */
  readonly topic?: string;
  /** The partition of the failed record or batch. */
  readonly partition?: number;
  /** The Kafka protocol error type (`NOT_LEADER_OR_FOLLOWER`, ...) or kafkajs error name. */
  readonly kafkaType?: string;
}

/** The base of the producer's errors: carries topic, partition and the Kafka error type. */
export abstract class ProducerError extends CascadeError {
  abstract override readonly code: ProducerErrorCode;
  /** The topic of the failed record or batch, when known. */
  readonly topic: string | undefined;
  /** The partition of the failed record or batch, when known. */
  readonly partition: number | undefined;
  /** The Kafka protocol error type or kafkajs error name behind this error, when there is one. */
  readonly kafkaType: string | undefined;

  protected constructor(message: string, retriable: boolean, context: ProducerErrorContext = {}) {
    super(message, retriable, context.cause === undefined ? undefined : { cause: context.cause });
    this.topic = context.topic;
    this.partition = context.partition;
    this.kafkaType = context.kafkaType;
  }
}

/** A transient broker error (leader moved, not enough replicas, ...) that outlasted the retries. Retriable. */
export class KafkaRetriableError extends ProducerError {
  readonly code = ProducerErrorCodes.Retriable;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, true, context);
  }
}
brandErrorClass(KafkaRetriableError, '@cascade/producer');

/** A broker or client error nobody classified, or one that retrying cannot fix. Not retriable. */
export class KafkaFatalError extends ProducerError {
  readonly code = ProducerErrorCodes.Fatal;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(KafkaFatalError, '@cascade/producer');

/** The brokers could not be reached (refused, closed, no broker available). Retriable. */
export class KafkaConnectionError extends ProducerError {
  readonly code = ProducerErrorCodes.Connection;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, true, context);
  }
}
brandErrorClass(KafkaConnectionError, '@cascade/producer');

/** SASL authentication failed. The message never holds the credentials. Not retriable. */
export class AuthenticationError extends ProducerError {
  readonly code = ProducerErrorCodes.Authentication;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(AuthenticationError, '@cascade/producer');

/** The principal may not write to the topic (or use the transactional id / cluster). Not retriable. */
export class AuthorizationError extends ProducerError {
  readonly code = ProducerErrorCodes.Authorization;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(AuthorizationError, '@cascade/producer');

/** The record (or its batch) is larger than the broker or `maxRequestBytes` allows. Not retriable. */
export class RecordTooLargeError extends ProducerError {
  readonly code = ProducerErrorCodes.RecordTooLarge;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(RecordTooLargeError, '@cascade/producer');

/** The topic does not exist (and the broker does not create topics on use). Not retriable. */
export class UnknownTopicError extends ProducerError {
  readonly code = ProducerErrorCodes.UnknownTopic;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(UnknownTopicError, '@cascade/producer');

/**
 * A record was not acknowledged within `deliveryTimeoutMs` (or a request timed out). Retriable.
 * With idempotence on, sending it again cannot duplicate a record that did arrive.
 */
export class DeliveryTimeoutError extends ProducerError {
  readonly code = ProducerErrorCodes.DeliveryTimeout;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, true, context);
  }
}
brandErrorClass(DeliveryTimeoutError, '@cascade/producer');

/**
 * The partition has fewer in-sync replicas than its `min.insync.replicas`, so the broker refuses
 * `acks: 'all'` writes (`NOT_ENOUGH_REPLICAS`), or it wrote the batch but could not replicate it
 * in time (`NOT_ENOUGH_REPLICAS_AFTER_APPEND`; with idempotence on, the retry cannot duplicate
 * it). The producer retries until `deliveryTimeoutMs`; a send then fails with this error (the
 * message says the delivery timeout passed). Retriable: the send succeeds once the replicas are
 * back in sync.
 */
export class NotEnoughReplicasError extends ProducerError {
  readonly code = ProducerErrorCodes.NotEnoughReplicas;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, true, context);
  }
}
brandErrorClass(NotEnoughReplicasError, '@cascade/producer');

/**
 * Another producer with the same `transactionalId` started: this one is fenced and refuses
 * every further send. Close it. Not retriable.
 */
export class ProducerFencedError extends ProducerError {
  readonly code = ProducerErrorCodes.Fenced;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(ProducerFencedError, '@cascade/producer');

/** `bufferMemoryBytes` stayed full for `maxBlockMs`: the brokers do not keep up. Retriable. */
export class BufferFullError extends ProducerError {
  readonly code = ProducerErrorCodes.BufferFull;
  /** How long the send waited for room, in milliseconds. */
  readonly waitedMs: number;
  constructor(message: string, waitedMs: number, context?: ProducerErrorContext) {
    super(message, true, context);
    this.waitedMs = waitedMs;
  }
}
brandErrorClass(BufferFullError, '@cascade/producer');

/** The circuit breaker is open: the cluster failed recently, so the send failed fast. Retriable. */
export class CircuitOpenError extends ProducerError {
  readonly code = ProducerErrorCodes.CircuitOpen;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, true, context);
  }
}
brandErrorClass(CircuitOpenError, '@cascade/producer');

/** The key or value serde (or an interceptor's output) failed to produce bytes. Not retriable. */
export class ProducerSerializationError extends ProducerError {
  readonly code = ProducerErrorCodes.Serialization;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(ProducerSerializationError, '@cascade/producer');

/**
 * A call that the transaction state forbids: `send()` outside `transaction()` on a
 * transactional producer, `transaction()` without `transactionalId`, `tx.send()` after the
 * transaction ended. Not retriable.
 */
export class TransactionStateError extends ProducerError {
  readonly code = ProducerErrorCodes.TransactionState;
  constructor(message: string, context?: ProducerErrorContext) {
    super(message, false, context);
  }
}
brandErrorClass(TransactionStateError, '@cascade/producer');
