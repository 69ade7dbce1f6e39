/**
 * The errors of `@cascade/consumer`, and the two control signals a handler may throw
 * ({@link SendToDlt}, {@link SkipRecord}). Each has a stable `code`. Errors of the transport
 * (the Kafka client under the consumer) become {@link ConsumerKafkaError}s in one place,
 * {@link toConsumerError}.
 * @module
 */

import {
  brandErrorClass,
  CascadeError,
  type CascadeErrorOptions,
  isCascadeError,
  redactUrl,
} from '@cascade/core';
import { TransportError, type TransportErrorKind } from '@cascade/transport';

/** The codes of the errors declared in `@cascade/consumer`. */
export const ConsumerErrorCodes = {
  SendToDlt: 'CASCADE_CONSUMER_SEND_TO_DLT',
  SkipRecord: 'CASCADE_CONSUMER_SKIP_RECORD',
  HandlerTimeout: 'CASCADE_CONSUMER_HANDLER_TIMEOUT',
  DltPublish: 'CASCADE_CONSUMER_DLT_PUBLISH',
  UnknownTopic: 'CASCADE_CONSUMER_UNKNOWN_TOPIC',
  Commit: 'CASCADE_CONSUMER_COMMIT',
  Crashed: 'CASCADE_CONSUMER_CRASHED',
  Decorator: 'CASCADE_CONSUMER_DECORATOR',
  Kafka: 'CASCADE_CONSUMER_KAFKA',
} as const;

/** One of {@link ConsumerErrorCodes}. */
export type ConsumerErrorCode = (typeof ConsumerErrorCodes)[keyof typeof ConsumerErrorCodes];

/** Where a record came from, carried by the errors that concern one record. */
export interface RecordContext extends CascadeErrorOptions {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
}

function where(context: RecordContext): string {
  if (context.topic === undefined) return '';
  const parts = [`topic ${context.topic}`];
  if (context.partition !== undefined) parts.push(`partition ${context.partition}`);
  if (context.offset !== undefined) parts.push(`offset ${context.offset}`);
  return ` (${parts.join(', ')})`;
}

/**
 * Thrown by a handler: send this record to the dead-letter topic now, without further retries.
 *
 * @example
 * ```ts
 * handler: async (msg) => {
 *   if (!msg.value.customerId) throw new SendToDlt('order without customer');
 * }
 * ```
 */
export class SendToDlt extends CascadeError {
  readonly code = ConsumerErrorCodes.SendToDlt;
  constructor(reason: string, options?: CascadeErrorOptions) {
    super(reason, false, options);
  }
}
brandErrorClass(SendToDlt, '@cascade/consumer');

/** Thrown by a handler: skip this record (count it as handled, commit past it, no DLT). */
export class SkipRecord extends CascadeError {
  readonly code = ConsumerErrorCodes.SkipRecord;
  constructor(reason: string, options?: CascadeErrorOptions) {
    super(reason, false, options);
  }
}
brandErrorClass(SkipRecord, '@cascade/consumer');

/** A handler did not settle within `handlerTimeoutMs`. Retriable; its `signal` was aborted. */
export class HandlerTimeoutError extends CascadeError {
  readonly code = ConsumerErrorCodes.HandlerTimeout;
  readonly timeoutMs: number;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: string | undefined;
  constructor(timeoutMs: number, context: RecordContext = {}) {
    super(
      `Handler did not finish within ${timeoutMs} ms${where(context)}. Its signal was aborted; the record is retried per the failure policy. Make the handler honour msg.signal, or raise handlerTimeoutMs.`,
      true,
      context,
    );
    this.timeoutMs = timeoutMs;
    this.topic = context.topic;
    this.partition = context.partition;
    this.offset = context.offset;
  }
}
brandErrorClass(HandlerTimeoutError, '@cascade/consumer');

/**
 * Publishing a record to its dead-letter or retry topic failed. Retriable: the partition stops
 * advancing and the publish is tried again; the record is never dropped.
 */
export class DltPublishError extends CascadeError {
  readonly code = ConsumerErrorCodes.DltPublish;
  /** The DLT or retry topic the record was being sent to. */
  readonly targetTopic: string;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  readonly offset: string | undefined;
  constructor(targetTopic: string, context: RecordContext = {}) {
    super(
      `Could not publish the failed record${where(context)} to ${targetTopic}. The partition does not advance until it succeeds; check that ${targetTopic} exists and is writable.`,
      true,
      context,
    );
    this.targetTopic = targetTopic;
    this.topic = context.topic;
    this.partition = context.partition;
    this.offset = context.offset;
  }
}
brandErrorClass(DltPublishError, '@cascade/consumer');

/** A subscribed (or retry / dead-letter) topic does not exist. Not retriable: create it first. */
export class MissingTopicsError extends CascadeError {
  readonly code = ConsumerErrorCodes.UnknownTopic;
  readonly topics: readonly string[];
  constructor(topics: readonly string[], options?: CascadeErrorOptions) {
    super(
      `Topic${topics.length === 1 ? '' : 's'} ${topics.join(', ')} do${topics.length === 1 ? 'es' : ''} not exist. Create ${topics.length === 1 ? 'it' : 'them'} first: the cluster does not create topics on use.`,
      false,
      options,
    );
    this.topics = topics;
  }
}
brandErrorClass(MissingTopicsError, '@cascade/consumer');

/** Committing offsets failed (after the group moved on, or the coordinator was unreachable). Retriable. */
export class CommitError extends CascadeError {
  readonly code = ConsumerErrorCodes.Commit;
  constructor(groupId: string, options?: CascadeErrorOptions) {
    super(
      `Committing offsets of group ${groupId} failed. The records after the last commit are delivered again (at-least-once).`,
      true,
      options,
    );
  }
}
brandErrorClass(CommitError, '@cascade/consumer');

/** The underlying client crashed and will not restart on its own. Not retriable: create a new consumer. */
export class ConsumerCrashedError extends CascadeError {
  readonly code = ConsumerErrorCodes.Crashed;
  readonly groupId: string;
  constructor(groupId: string, options?: CascadeErrorOptions) {
    super(`The consumer of group ${groupId} crashed and stopped. Create a new consumer.`, false, options);
    this.groupId = groupId;
  }
}
brandErrorClass(ConsumerCrashedError, '@cascade/consumer');

/** A decorated handler class is malformed (no `@Subscribe` methods, a bad option). Not retriable. */
export class DecoratorError extends CascadeError {
  readonly code = ConsumerErrorCodes.Decorator;
  constructor(message: string, options?: CascadeErrorOptions) {
    super(message, false, options);
  }
}
brandErrorClass(DecoratorError, '@cascade/consumer');

/** What the consumer was doing when the Kafka client failed, for {@link ConsumerKafkaError}. */
export type ConsumerOperation = 'start' | 'seek' | 'stop' | 'ensure retry topics';

/** Context of a {@link ConsumerKafkaError}. */
export interface ConsumerKafkaErrorOptions extends CascadeErrorOptions {
  readonly operation: ConsumerOperation;
  readonly retriable: boolean;
  readonly kind: TransportErrorKind;
  readonly kafkaType?: string;
  readonly groupId?: string;
  readonly topic?: string;
}

const hints: Readonly<Record<TransportErrorKind, string>> = {
  protocol: 'The broker refused the request.',
  connection: 'No broker could be reached: check `kafka.brokers` and that the cluster is up.',
  timeout: 'The cluster did not answer in time; it may be overloaded or restarting.',
  authentication: 'Authentication failed: check `kafka.sasl` and `kafka.ssl`.',
  metadata: "The client's cluster metadata was missing or stale; trying again refreshes it.",
  unknown: 'The Kafka client failed unexpectedly.',
};

/**
 * The Kafka client under the consumer failed (connecting, joining, reading offsets, seeking):
 * `kind` says how, `kafkaType` names the broker's protocol error when it sent one, and
 * `retriable` whether trying again may succeed. The transport's error is the `cause`.
 */
export class ConsumerKafkaError extends CascadeError {
  readonly code = ConsumerErrorCodes.Kafka;
  readonly operation: ConsumerOperation;
  readonly kind: TransportErrorKind;
  /** The Kafka protocol error name (`GROUP_AUTHORIZATION_FAILED`...), when the broker sent one. */
  readonly kafkaType: string | undefined;
  readonly groupId: string | undefined;
  readonly topic: string | undefined;
  constructor(message: string, options: ConsumerKafkaErrorOptions) {
    super(message, options.retriable, options);
    this.operation = options.operation;
    this.kind = options.kind;
    this.kafkaType = options.kafkaType;
    this.groupId = options.groupId;
    this.topic = options.topic;
  }
}
brandErrorClass(ConsumerKafkaError, '@cascade/consumer');

/**
 * The consumer's error for anything the transport (or code under it) threw during `operation`:
 * a {@link TransportError} becomes a {@link ConsumerKafkaError} keeping its `retriable`; other
 * Cascade errors (a consumer's own, a `ConfigError`) pass through; anything else is a
 * non-retriable `ConsumerKafkaError` of kind `unknown`.
 */
export function toConsumerError(
  error: unknown,
  operation: ConsumerOperation,
  context: { readonly groupId?: string; readonly topic?: string } = {},
): CascadeError {
  if (isCascadeError(error) && !(error instanceof TransportError)) return error as CascadeError;
  const transport = error instanceof TransportError ? error : undefined;
  const kind = transport?.kind ?? 'unknown';
  const text = error instanceof Error ? error.message : String(error);
  const parts: string[] = [];
  if (context.groupId !== undefined) parts.push(`group ${context.groupId}`);
  if (context.topic !== undefined) parts.push(`topic ${context.topic}`);
  const where = parts.length === 0 ? '' : ` (${parts.join(', ')})`;
  const type = transport?.kafkaType === undefined ? '' : ` [${transport.kafkaType}]`;
  return new ConsumerKafkaError(
    redactUrl(`Consumer ${operation} failed${where}: ${text}${type}. ${hints[kind]}`),
    {
      cause: error,
      operation,
      kind,
      retriable: transport?.retriable ?? false,
      ...(transport?.kafkaType === undefined ? {} : { kafkaType: transport.kafkaType }),
      ...(context.groupId === undefined ? {} : { groupId: context.groupId }),
      ...(context.topic === undefined ? {} : { topic: context.topic }),
    },
  );
}
