/**
 * The errors of `@cascade/consumer`, and the two control signals a handler may throw
 * ({@link SendToDlt}, {@link SkipRecord}). Each has a stable `code`.
 * @module
 */

import { brandErrorClass, CascadeError, type CascadeErrorOptions } from '@cascade/core';

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
brandErrorClass(SendToDlt);

/** Thrown by a handler: skip this record (count it as handled, commit past it, no DLT). */
export class SkipRecord extends CascadeError {
  readonly code = ConsumerErrorCodes.SkipRecord;
  constructor(reason: string, options?: CascadeErrorOptions) {
    super(reason, false, options);
  }
}
brandErrorClass(SkipRecord);

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
brandErrorClass(HandlerTimeoutError);

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
brandErrorClass(DltPublishError);

/** A subscribed (or retry / dead-letter) topic does not exist. Not retriable: create it first. */
export class UnknownTopicError extends CascadeError {
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
brandErrorClass(UnknownTopicError);

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
brandErrorClass(CommitError);

/** The underlying client crashed and will not restart on its own. Not retriable: create a new consumer. */
export class ConsumerCrashedError extends CascadeError {
  readonly code = ConsumerErrorCodes.Crashed;
  readonly groupId: string;
  constructor(groupId: string, options?: CascadeErrorOptions) {
    super(`The consumer of group ${groupId} crashed and stopped. Create a new consumer.`, false, options);
    this.groupId = groupId;
  }
}
brandErrorClass(ConsumerCrashedError);

/** A decorated handler class is malformed (no `@Subscribe` methods, a bad option). Not retriable. */
export class DecoratorError extends CascadeError {
  readonly code = ConsumerErrorCodes.Decorator;
  constructor(message: string, options?: CascadeErrorOptions) {
    super(message, false, options);
  }
}
brandErrorClass(DecoratorError);
