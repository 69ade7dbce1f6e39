/**
 * The option checks of the saga's factories (`createSagaCoordinator`, `createSagaParticipant`;
 * the TCC helpers' are in `tcc/options.ts`), run before anything is built: an unknown or misspelt key is a
 * {@link ConfigError} naming it and the nearest known key, and every error names the option the
 * caller wrote (`partitionsConcurrently`, `kafka.brokers`), never the consumer or producer option
 * the saga passes it on as (`consumer.partitionsConsumedConcurrently`, `producer.brokers`).
 *
 * Each key list is checked against its options interface at compile time ({@link optionKeys}).
 * @module
 */

import {
  ConfigError,
  isPlainObject,
  optionKeys,
  optionPath,
  rejectUnknownKeys,
  requireDurationMs,
  requireInteger,
  requireNonEmptyString,
  requirePlainObject,
  retryPolicyAliases,
  retryPolicyKeys,
} from '@cascade/core';
import { resolveKafkaConfig } from '@cascade/producer';
import { contractOfHandlers } from './command.js';
import type { SagaCoordinatorOptions } from './coordinator.js';
import type { SagaParticipantOptions } from './participant.js';
import type { SagaTopics } from './topics.js';

/** The keys of {@link SagaCoordinatorOptions}. */
export const sagaCoordinatorOptionKeys = optionKeys<SagaCoordinatorOptions>({
  kafka: true,
  sagas: true,
  topics: true,
  groupId: true,
  sessionTimeoutMs: true,
  partitionsConcurrently: true,
  restoreTimeoutMs: true,
  finishedRetentionMs: true,
  circuitBreaker: true,
  httpParticipants: true,
  onNeedsAttention: true,
  logger: true,
});

/** The keys of the coordinator's `circuitBreaker` options. */
export const sagaCircuitBreakerOptionKeys = optionKeys<
  Exclude<SagaCoordinatorOptions['circuitBreaker'], false | undefined>
>({
  errorThresholdPercentage: true,
  volumeThreshold: true,
  resetTimeoutMs: true,
});

/** The keys of {@link SagaTopics}, checked when `topics` is a plain object (as `sagaTopics()` makes). */
export const sagaTopicsKeys = optionKeys<SagaTopics>({ inbox: true, log: true, commands: true });

/** The keys of {@link SagaParticipantOptions}. */
export const sagaParticipantOptionKeys = optionKeys<SagaParticipantOptions>({
  kafka: true,
  participant: true,
  commands: true,
  topics: true,
  groupId: true,
  store: true,
  retry: true,
  concurrency: true,
  maxConcurrency: true,
  maxInFlight: true,
  logger: true,
});

/**
 * The consumer's default heartbeat interval, which the coordinator's consumer keeps: its
 * `sessionTimeoutMs` must be longer (`resolveConsumerOptions` in `@cascade/consumer`).
 */
const consumerHeartbeatIntervalMs = 3_000;

/**
 * Checks the options of `createSagaCoordinator` before the coordinator passes them on to its
 * consumer and producers: fields are named as the caller wrote them (top-level, no prefix).
 * @throws {ConfigError} naming the option.
 */
export function checkSagaCoordinatorOptions(input: SagaCoordinatorOptions): void {
  rejectUnknownKeys('', input, sagaCoordinatorOptionKeys, {
    partitionsConsumedConcurrently: 'partitionsConcurrently',
  });
  checkKafka(input.kafka);
  if (!Array.isArray(input.sagas)) {
    throw new ConfigError('sagas', 'expected an array of saga definitions (defineSaga(...).build()).');
  }
  checkTopics(input.topics);
  if (input.groupId !== undefined) requireNonEmptyString('groupId', input.groupId);
  if (input.sessionTimeoutMs !== undefined) {
    requireDurationMs('sessionTimeoutMs', input.sessionTimeoutMs, 1);
    if (input.sessionTimeoutMs <= consumerHeartbeatIntervalMs) {
      throw new ConfigError(
        'sessionTimeoutMs',
        `must be longer than the coordinator consumer's heartbeat interval (${consumerHeartbeatIntervalMs} ms), got ${input.sessionTimeoutMs}.`,
      );
    }
  }
  if (input.partitionsConcurrently !== undefined) {
    requireInteger('partitionsConcurrently', input.partitionsConcurrently, 1);
  }
  if (input.circuitBreaker !== undefined && input.circuitBreaker !== false) {
    rejectUnknownKeys('circuitBreaker', input.circuitBreaker, sagaCircuitBreakerOptionKeys);
  }
  if (input.httpParticipants !== undefined) requirePlainObject('httpParticipants', input.httpParticipants);
}

/**
 * Checks the options of `createSagaParticipant` before they are passed on to its consumer and
 * producer. @throws {ConfigError} naming the option.
 */
export function checkSagaParticipantOptions(input: SagaParticipantOptions): void {
  rejectUnknownKeys('', input, sagaParticipantOptionKeys);
  checkKafka(input.kafka);
  requireNonEmptyString('participant', input.participant);
  if (typeof input.commands !== 'object' || input.commands === null) {
    throw new ConfigError('commands', 'expected an object of command handlers by command name.');
  }
  for (const [name, handlers] of Object.entries(input.commands)) {
    const contract = handlers === undefined ? undefined : contractOfHandlers(handlers);
    if (contract !== undefined && contract.participant !== input.participant) {
      throw new ConfigError(
        `commands.${name}`,
        `command ${contract.name} belongs to participant ${contract.participant}, not ${input.participant}: its commands go to ${contract.participant}'s command topic.`,
      );
    }
  }
  checkTopics(input.topics);
  if (input.groupId !== undefined) requireNonEmptyString('groupId', input.groupId);
  if (input.retry !== undefined) rejectUnknownKeys('retry', input.retry, retryPolicyKeys, retryPolicyAliases);
}

/**
 * The producer's default delivery timeout, which the saga's producers keep: each must be at
 * least its `lingerMs` (at most 2 here) plus the connection's `requestTimeoutMs`
 * (`resolveProducerOptions` in `@cascade/producer`).
 */
const producerDeliveryTimeoutMs = 120_000;
const sagaProducerLingerMs = 2;

/** The connection: named `kafka.*`, as the caller wrote it. */
function checkKafka(kafka: unknown): void {
  if (kafka === undefined)
    throw new ConfigError('kafka', 'expected the cluster config, with at least `brokers`.');
  const { requestTimeoutMs } = resolveKafkaConfig(kafka as Parameters<typeof resolveKafkaConfig>[0], 'kafka');
  // Else the saga's producers would refuse it as `producer.deliveryTimeoutMs`, an option the caller cannot set.
  if (requestTimeoutMs + sagaProducerLingerMs > producerDeliveryTimeoutMs) {
    throw new ConfigError(
      'kafka.requestTimeoutMs',
      `must be at most ${producerDeliveryTimeoutMs - sagaProducerLingerMs} (the saga's producers deliver within ${producerDeliveryTimeoutMs} ms), got ${requestTimeoutMs}.`,
    );
  }
}

function checkTopics(topics: unknown): void {
  if (topics === undefined) return;
  if (typeof topics !== 'object' || topics === null) {
    throw new ConfigError('topics', "expected saga topics, e.g. sagaTopics('orders').");
  }
  // A plain object (what sagaTopics() returns, or a literal) is checked key by key; a class
  // implementing SagaTopics is taken as it is.
  if (isPlainObject(topics)) rejectUnknownKeys('topics', topics, sagaTopicsKeys);
  for (const key of ['inbox', 'log'] as const) {
    requireNonEmptyString(optionPath('topics', key), (topics as Partial<SagaTopics>)[key]);
  }
  if (typeof (topics as Partial<SagaTopics>).commands !== 'function') {
    throw new ConfigError(
      'topics.commands',
      'expected a function from a participant name to its command topic.',
    );
  }
}
