/**
 * Saga participants over Kafka: a service's handlers for the commands of the steps it carries
 * out. Each command is handled once per idempotency key (a redelivered or retried command gets
 * the first outcome again), and answered on the coordinator's inbox with success, a business
 * failure (the saga compensates, no retry) or an error (the saga retries).
 * @module
 */

import { type ConcurrencyMode, type Consumer, createConsumer, type Message } from '@cascade/consumer';
import {
  brandErrorClass,
  CascadeError,
  type CascadeErrorOptions,
  ConfigError,
  findCascadeError,
  Lifecycle,
  type LifecycleState,
  type Logger,
  type RetryPolicy,
  resolveRetryPolicy,
  safeLogger,
} from '@cascade/core';
import { createProducer, type KafkaConfig, type Producer } from '@cascade/producer';
import { bytes, string } from '@cascade/schema';
import { type CommandRecord, decodeCommand, encodeInboxEvent, type InboxEvent } from './codec.js';
import { SagaErrorCodes } from './errors.js';
import { checkSagaParticipantOptions } from './options.js';
import type { Phase } from './state.js';
import { type SagaTopics, sagaTopics } from './topics.js';

/**
 * Thrown by a participant's handler to refuse a command for a business reason (out of stock,
 * card declined): nothing was done, and the saga compensates without retrying.
 */
export class BusinessFailure extends CascadeError {
  readonly code = SagaErrorCodes.BusinessFailure;
  /** The reason's type, e.g. `OutOfStock`. */
  readonly type: string;
  readonly details: unknown;

  constructor(type: string, message: string, details?: unknown, options?: CascadeErrorOptions) {
    super(message, false, options);
    this.type = type;
    this.details = details;
  }
}
brandErrorClass(BusinessFailure, '@cascade/saga');

/** What a command handler sees besides the payload. */
export interface CommandContext {
  readonly sagaId: string;
  readonly saga: string;
  readonly step: string;
  readonly phase: Phase;
  readonly attempt: number;
  /** The same for every attempt of this phase of this step. */
  readonly idempotencyKey: string;
  /** The command's name, as the participant's `commands` map names it. */
  readonly command: string;
  /** TCC try: how long the coordinator asks the participant to hold the reservation. */
  readonly reservationTtlMs?: number;
}

/**
 * A handler's result that carries a reservation's expiry (TCC try): the reply is a success with
 * `result` and `expiresAt`, which the coordinator uses to confirm in time.
 */
export class Reservation {
  /**
   * @param result the try's result, sent in the reply.
   * @param expiresAt when the participant lets the reservation go (epoch ms).
   */
  constructor(
    readonly result: unknown,
    readonly expiresAt: number,
  ) {}
}

/** A participant's handlers for one command: do it, and undo it. */
export interface CommandHandlers {
  invoke(payload: unknown, context: CommandContext): unknown;
  /** Undo. Must accept a compensation for a command that was never applied (answer success). */
  compensate?(payload: unknown, context: CommandContext): unknown;
  /** TCC: confirm what `invoke` (the try) reserved. */
  confirm?(payload: unknown, context: CommandContext): unknown;
}

/** Remembers the outcome of each idempotency key. */
export interface IdempotencyStore {
  get(key: string): Promise<InboxEvent | undefined> | InboxEvent | undefined;
  set(key: string, outcome: InboxEvent): Promise<void> | void;
}

/** An in-memory store of the last `capacity` outcomes. For tests and single-instance services. */
export function memoryIdempotencyStore(capacity = 100_000): IdempotencyStore {
  const outcomes = new Map<string, InboxEvent>();
  return {
    get: (key) => outcomes.get(key),
    set: (key, outcome) => {
      outcomes.delete(key);
      outcomes.set(key, outcome);
      if (outcomes.size > capacity) outcomes.delete(outcomes.keys().next().value as string);
    },
  };
}

/** Options of {@link createSagaParticipant}. */
export interface SagaParticipantOptions {
  readonly kafka: KafkaConfig;
  /** The participant's name, as saga steps name it. */
  readonly participant: string;
  /** Handlers by command name. */
  readonly commands: Readonly<Record<string, CommandHandlers>>;
  /** @default sagaTopics('cascade') */
  readonly topics?: SagaTopics;
  /** @default `${topics.commands(participant)}.participant` */
  readonly groupId?: string;
  /** @default memoryIdempotencyStore() */
  readonly store?: IdempotencyStore;
  /**
   * How a command is tried again when the participant's own infrastructure fails on it — the
   * idempotency store throws, or the reply cannot be sent (a handler that throws is not such a
   * failure: it is answered with an `error` reply, which the saga retries). After the last
   * attempt the command is given up, logged at error level, and the partition goes on with the
   * next command; the saga step's `timeoutMs` then decides (retry, compensate, needs-attention).
   * A Cascade error flagged not retriable is given up at once. Without a step timeout the saga
   * would wait on a given-up command until its own deadline: give Kafka steps a `timeoutMs`.
   * @default { maximumAttempts: 5, initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 5000, jitter: 0.2 } (about 3 s in all)
   */
  readonly retry?: RetryPolicy;
  /**
   * `'partition'`: one command at a time per command-topic partition. `'key'`: commands of
   * different sagas at once (each saga's in order, the topic being keyed by saga id), up to
   * `maxConcurrency` per partition — for handlers that wait on I/O.
   * @default 'partition'
   */
  readonly concurrency?: ConcurrencyMode;
  /** With `concurrency: 'key'`: commands handled at once per partition. @default 16 */
  readonly maxConcurrency?: number;
  /**
   * Commands fetched and not yet handled, at most, across partitions (the consumer's
   * `maxInFlight`): with handlers that wait long, raise it to the commands you want waiting at once.
   * @default 1000
   */
  readonly maxInFlight?: number;
  readonly logger?: Logger;
}

/** The default of {@link SagaParticipantOptions.retry}. */
export const participantRetry: RetryPolicy = Object.freeze({
  maximumAttempts: 5,
  initialIntervalMs: 200,
  backoffCoefficient: 2,
  maximumIntervalMs: 5_000,
  jitter: 0.2,
});

/** A running participant. */
export interface Participant extends AsyncDisposable {
  /** `idle`, `connecting`, `running`, `stopping`, `stopped` or `failed`. */
  readonly state: LifecycleState;
  /** Connects and joins the participant's consumer group. */
  start(): Promise<void>;
  /** Stops handling commands and disconnects. Idempotent. */
  close(): Promise<void>;
  /** @deprecated Renamed {@link Participant.close}: every Cascade client ends with `close()`. */
  stop(): Promise<void>;
}

/** Creates a participant that handles its commands and replies to the coordinator. */
export function createSagaParticipant(options: SagaParticipantOptions): Participant {
  checkSagaParticipantOptions(options);
  const logger = safeLogger(options.logger).child({ participant: options.participant });
  const topics = options.topics ?? sagaTopics('cascade');
  const store = options.store ?? memoryIdempotencyStore();
  const retry = resolveRetryPolicy('retry', { ...participantRetry, ...options.retry });
  if (retry.maximumAttempts === 0) {
    throw new ConfigError(
      'retry.maximumAttempts',
      'a participant must give up on a command at some point (0 would hold its partition forever); expected at least 1.',
    );
  }
  const producer: Producer<string, Buffer> = createProducer({
    ...options.kafka,
    key: string(),
    value: bytes(),
    lingerMs: 2,
  });

  const outcomeOf = async (command: CommandRecord): Promise<InboxEvent> => {
    const base = {
      type: 'reply',
      step: command.step,
      phase: command.phase,
      attempt: command.attempt,
    } as const;
    const handlers = options.commands[command.command];
    if (handlers === undefined) {
      return {
        ...base,
        outcome: 'error',
        error: {
          type: 'UnknownCommand',
          message: `${options.participant} has no command ${command.command}`,
          nonRetryable: true,
        },
      };
    }
    const context: CommandContext = {
      sagaId: command.sagaId,
      saga: command.saga,
      step: command.step,
      phase: command.phase,
      attempt: command.attempt,
      idempotencyKey: command.idempotencyKey,
      command: command.command,
      ...(command.reservationTtlMs === undefined ? {} : { reservationTtlMs: command.reservationTtlMs }),
    };
    try {
      const result =
        command.phase === 'invoke'
          ? await handlers.invoke(command.payload, context)
          : command.phase === 'confirm'
            ? await handlers.confirm?.(command.payload, context)
            : await handlers.compensate?.(command.payload, context);
      if (result instanceof Reservation) {
        return { ...base, outcome: 'success', result: result.result ?? null, expiresAt: result.expiresAt };
      }
      return { ...base, outcome: 'success', result: result ?? null };
    } catch (error) {
      if (error instanceof BusinessFailure) {
        return {
          ...base,
          outcome: 'business-failure',
          error: {
            type: error.type,
            message: error.message,
            ...(error.details === undefined ? {} : { details: error.details }),
          },
        };
      }
      const message = error instanceof Error ? error.message : String(error);
      return {
        ...base,
        outcome: 'error',
        error: { type: error instanceof Error ? error.name : 'Error', message },
      };
    }
  };

  const consumer: Consumer = createConsumer({
    kafka: options.kafka,
    groupId: options.groupId ?? `${topics.commands(options.participant)}.participant`,
    fromBeginning: true,
    ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
    logger,
  });
  const handleCommand = async (message: Message<string, Buffer>): Promise<void> => {
    let command: CommandRecord;
    try {
      command = decodeCommand(message.value);
    } catch (error) {
      logger.error('Skipping a command that cannot be read.', {
        partition: message.partition,
        offset: message.offset,
        error,
      });
      return;
    }
    let outcome = await store.get(command.idempotencyKey);
    if (outcome === undefined) {
      const fresh = await outcomeOf(command);
      // Errors are not remembered: the coordinator's retry runs the handler again.
      if (fresh.type === 'reply' && fresh.outcome !== 'error') await store.set(command.idempotencyKey, fresh);
      outcome = fresh;
    } else if (outcome.type === 'reply') {
      outcome = { ...outcome, attempt: command.attempt };
    }
    await producer.send({ topic: command.replyTo, key: command.sagaId, value: encodeInboxEvent(outcome) });
  };

  // No dead-letter topic: a command is never dropped silently. The consumer retries it in place
  // (with `retry`'s backoff); on the last attempt it is given up, so one command whose store or
  // reply keeps failing does not hold the partition: the saga's step timeout takes over.
  consumer.subscribe({
    topic: topics.commands(options.participant),
    value: bytes(),
    // A null value is no command: committed without the handler.
    tombstones: 'skip',
    dlt: false,
    retry,
    nonRetryableErrors: [],
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
    handler: async (message) => {
      try {
        await handleCommand(message);
      } catch (error) {
        const retriable = findCascadeError(error)?.retriable !== false;
        if (retriable && message.attempt < retry.maximumAttempts) throw error;
        logger.error(
          'Giving up on a command: the participant could not handle it. The saga step times out and retries or compensates.',
          { partition: message.partition, offset: message.offset, attempts: message.attempt, error },
        );
      }
    },
  });

  const lifecycle = new Lifecycle('saga participant');
  const participant: Participant = {
    get state() {
      return lifecycle.state;
    },
    start: () =>
      lifecycle.start(async () => {
        await producer.start();
        await consumer.start();
      }),
    close: () =>
      lifecycle.close(async () => {
        await consumer.stop();
        await producer.close();
      }),
    stop: () => participant.close(),
    [Symbol.asyncDispose]: () => participant.close(),
  };
  return participant;
}
