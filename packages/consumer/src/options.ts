/**
 * The consumer's options, resolved once at the edge by {@link resolveConsumerOptions}.
 * @module
 */

import {
  ConfigError,
  type Logger,
  type OptionAliases,
  optionKeys,
  rejectUnknownKeys,
  requireDurationMs,
  requireInteger,
  requireNonEmptyString,
  retryPolicyAliases,
  retryPolicyKeys,
  safeLogger,
} from '@cascade/core';
import {
  type KafkaConfig,
  type ProducerOptions,
  type ResolvedKafkaConfig,
  resolveKafkaConfig,
  resolveProducerOptions,
} from '@cascade/producer';
import { bytes } from '@cascade/schema';
import type { PartitionAssignor } from '@cascade/transport';
import type {
  ConsumerInterceptor,
  DltOptions,
  RetryTopicsOptions,
  SubscriptionOptions,
  TopicPartition,
} from './types.js';

/** Exactly-once processing. */
export interface EosOptions {
  /**
   * The prefix of the transactional ids. Each input partition gets its own transactional
   * producer, `<prefix>-<topic>-<partition>`, so the instance that takes a partition over fences
   * the previous owner's in-flight transaction (the pre-KIP-447 scheme).
   * @default `<groupId>`
   */
  readonly transactionalIdPrefix?: string;
  /**
   * Transaction timeout, in milliseconds.
   * @default 60000
   */
  readonly transactionTimeoutMs?: number;
  /**
   * Options of the transactional producers Cascade creates per input partition (compression,
   * interceptors such as the producer's trace-context interceptor, timeouts). The connection
   * comes from `kafka`; serdes and the transactional id are Cascade's.
   * @default {}
   */
  readonly producer?: EosProducerOptions;
}

/** The producer options exactly-once mode passes on. */
export type EosProducerOptions = Partial<
  Omit<
    ProducerOptions<string | Buffer, Buffer>,
    | keyof KafkaConfig
    | 'key'
    | 'value'
    | 'transactionalId'
    | 'transactionTimeoutMs'
    | 'defaultTopic'
    | 'idempotent'
  >
>;

/** The keys of {@link EosOptions}. */
export const eosOptionKeys = optionKeys<EosOptions>({
  transactionalIdPrefix: true,
  transactionTimeoutMs: true,
  producer: true,
});

/** The keys of {@link EosProducerOptions}: the producer options exactly-once mode passes on. */
export const eosProducerOptionKeys = optionKeys<EosProducerOptions>({
  partitioner: true,
  interceptors: true,
  acks: true,
  ackTimeoutMs: true,
  compression: true,
  lingerMs: true,
  batchBytes: true,
  maxInFlight: true,
  bufferMemoryBytes: true,
  maxBlockMs: true,
  deliveryTimeoutMs: true,
  circuitBreaker: true,
  metadataMaxAgeMs: true,
});

/** Options of {@link createConsumer}. */
export interface ConsumerOptions {
  /** The cluster: the same `KafkaConfig` producers take (brokers, TLS, SASL, client id, logger). Required. */
  readonly kafka: KafkaConfig;
  /** The consumer group. Required. */
  readonly groupId: string;
  /** Where the consumer logs (redacted). @default kafka.logger, else defaultLogger (warnings and errors to stderr) */
  readonly logger?: Logger;
  /**
   * Where a group with no committed offset starts: the earliest record (`true`) or new records only.
   * @default false
   */
  readonly fromBeginning?: boolean;
  /**
   * Records handed to handlers and not yet finished, across all partitions. At the bound the
   * consumer stops fetching until handlers drain (back-pressure).
   * @default 1000
   */
  readonly maxInFlight?: number;
  /**
   * Partitions processed at the same time.
   * @default 32
   */
  readonly partitionsConsumedConcurrently?: number;
  /** @default 30000 */
  readonly sessionTimeoutMs?: number;
  /**
   * Heartbeats are sent this often, also while handlers run (a Kafka client alone heartbeats only
   * between batches, so a slow handler would get the member evicted).
   * @default 3000
   */
  readonly heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin during a rebalance. @default 60000 */
  readonly rebalanceTimeoutMs?: number;
  /**
   * A handler that has not settled after this long is treated as failed with
   * `HandlerTimeoutError` (retriable) and its `signal` is aborted. `0` disables the limit.
   * @default 0
   */
  readonly handlerTimeoutMs?: number;
  /**
   * `stop()` waits this long for in-flight handlers before abandoning them (their records are
   * not committed and will be delivered again).
   * @default 30000
   */
  readonly stopTimeoutMs?: number;
  /**
   * How often finished offsets are committed while batches are in progress (they are also
   * committed at the end of every batch, on rebalance and on stop).
   * @default 1000
   */
  readonly commitIntervalMs?: number;
  /**
   * How long the broker may hold a fetch that has no data yet, in milliseconds (Java's
   * `fetch.max.wait.ms`). Also bounds how late a paused partition (a retry topic waiting for its
   * delay) is fetched again after it resumes.
   * @default 500
   */
  readonly fetchMaxWaitMs?: number;
  /** Largest fetch per partition, in bytes. @default 1048576 */
  readonly maxBytesPerPartition?: number;
  /** Largest fetch response, in bytes. @default 10485760 */
  readonly maxBytes?: number;
  /** Interceptors, run in order. @default [] */
  readonly interceptors?: readonly ConsumerInterceptor[];
  /**
   * Called after the group assigned partitions to this member (the whole assignment). Records of
   * the assignment are handled only after it returns; heartbeats continue meanwhile.
   * @default undefined
   */
  readonly onPartitionsAssigned?: (partitions: readonly TopicPartition[]) => void | Promise<void>;
  /**
   * Called when partitions are taken away, after their in-flight records finished (or were
   * abandoned) and their offsets were committed.
   * @default undefined
   */
  readonly onPartitionsRevoked?: (partitions: readonly TopicPartition[]) => void | Promise<void>;
  /** Called with errors the consumer cannot report elsewhere (a crash, a stalled partition). @default undefined */
  readonly onError?: (error: Error) => void;
  /**
   * The rack this member runs in (Java's `client.rack`): fetches name it so the broker can send
   * this member to a replica in its rack (KIP-392 follower fetching, when the brokers set
   * `replica.selector.class`), and the `rack-aware` assignor (see {@link ConsumerOptions.assignors})
   * assigns by it.
   * @default undefined
   */
  readonly rackId?: string;
  /**
   * How old the consumer's cluster metadata (partition leaders, brokers) may get before it is
   * fetched again, and how long a preferred read replica named by the broker is kept, in
   * milliseconds (Java's `metadata.max.age.ms`). Failures refresh it sooner: a fetch from an
   * unreachable broker refreshes the metadata and falls back to the leader at once, and a
   * preferred replica the metadata does not list, or lists as offline, is not used.
   * @default 300000
   */
  readonly metadataMaxAgeMs?: number;
  /**
   * The partition assignment strategies this member offers the group, most preferred first (the
   * group uses the first one every member offers): `round-robin` spreads partitions evenly,
   * `rack-aware` gives each member the partitions with a replica in its rack (`rackId`) and
   * spreads the rest, so fetching from a follower in the member's rack keeps reads within it.
   * @default ['round-robin']
   * @example
   * ```ts
   * createConsumer({ kafka, groupId: 'billing', rackId: 'eu-west-1a', assignors: ['rack-aware', 'round-robin'] });
   * ```
   */
  readonly assignors?: readonly PartitionAssignor[];
  /** Exactly-once mode. @default undefined (at-least-once) */
  readonly eos?: EosOptions;
}

/** The keys of {@link ConsumerOptions}. */
export const consumerOptionKeys = optionKeys<ConsumerOptions>({
  kafka: true,
  groupId: true,
  logger: true,
  fromBeginning: true,
  maxInFlight: true,
  partitionsConsumedConcurrently: true,
  sessionTimeoutMs: true,
  heartbeatIntervalMs: true,
  rebalanceTimeoutMs: true,
  handlerTimeoutMs: true,
  stopTimeoutMs: true,
  commitIntervalMs: true,
  fetchMaxWaitMs: true,
  maxBytesPerPartition: true,
  maxBytes: true,
  interceptors: true,
  onPartitionsAssigned: true,
  onPartitionsRevoked: true,
  onError: true,
  rackId: true,
  metadataMaxAgeMs: true,
  assignors: true,
  eos: true,
});

/**
 * Names kafkajs and the Java client give consumer options whose spelling is not close to
 * Cascade's (and `partitionAssigners`, this option's name before `assignors`).
 */
export const consumerOptionAliases: OptionAliases = Object.freeze({
  maxWaitTimeInMs: 'fetchMaxWaitMs',
  'client.rack': 'rackId',
  'auto.offset.reset': 'fromBeginning',
  'max.partition.fetch.bytes': 'maxBytesPerPartition',
  'fetch.max.bytes': 'maxBytes',
  partitionAssigners: 'assignors',
  'partition.assignment.strategy': 'assignors',
});

/** The keys of {@link SubscriptionOptions}. */
export const subscriptionOptionKeys = optionKeys<SubscriptionOptions<unknown, unknown>>({
  topic: true,
  topics: true,
  pattern: true,
  key: true,
  value: true,
  handler: true,
  batchHandler: true,
  concurrency: true,
  maxConcurrency: true,
  retry: true,
  retryTopics: true,
  dlt: true,
  nonRetryableErrors: true,
  tombstones: true,
});

/** The keys of {@link DltOptions}. */
export const dltOptionKeys = optionKeys<DltOptions>({ topic: true });

/** The keys of {@link RetryTopicsOptions}. */
export const retryTopicsOptionKeys = optionKeys<RetryTopicsOptions>({ delaysMs: true });

/**
 * Checks the keys of a subscription's options and of its nested `retry`, `retryTopics` and
 * `dlt` options: an unknown key is a `ConfigError` naming its path under `field`
 * (`subscriptions[0].retryTopic`) and the nearest known key.
 */
export function checkSubscriptionOptionKeys(field: string, options: unknown): void {
  const subscription = rejectUnknownKeys(field, options, subscriptionOptionKeys);
  if (subscription.retry !== undefined)
    rejectUnknownKeys(`${field}.retry`, subscription.retry, retryPolicyKeys, retryPolicyAliases);
  if (subscription.retryTopics !== undefined) {
    rejectUnknownKeys(`${field}.retryTopics`, subscription.retryTopics, retryTopicsOptionKeys);
  }
  if (subscription.dlt !== undefined && subscription.dlt !== false) {
    rejectUnknownKeys(`${field}.dlt`, subscription.dlt, dltOptionKeys);
  }
}

/** {@link ConsumerOptions} with every default filled in. */
export interface ResolvedConsumerOptions {
  readonly kafka: ResolvedKafkaConfig;
  readonly groupId: string;
  readonly logger: Logger;
  readonly fromBeginning: boolean;
  readonly maxInFlight: number;
  readonly partitionsConsumedConcurrently: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly handlerTimeoutMs: number;
  readonly stopTimeoutMs: number;
  readonly commitIntervalMs: number;
  readonly fetchMaxWaitMs: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly interceptors: readonly ConsumerInterceptor[];
  readonly onPartitionsAssigned: ConsumerOptions['onPartitionsAssigned'];
  readonly onPartitionsRevoked: ConsumerOptions['onPartitionsRevoked'];
  readonly onError: ConsumerOptions['onError'];
  readonly rackId: string | undefined;
  readonly metadataMaxAgeMs: number;
  readonly assignors: readonly PartitionAssignor[] | undefined;
  readonly eos:
    | {
        readonly transactionalIdPrefix: string;
        readonly transactionTimeoutMs: number;
        readonly producer: EosProducerOptions;
      }
    | undefined;
}

/** Validates options and fills in defaults; throws `ConfigError` naming the field. */
export function resolveConsumerOptions(input: ConsumerOptions): ResolvedConsumerOptions {
  if (typeof input !== 'object' || input === null) {
    throw new ConfigError('consumer', 'expected an object with at least `kafka` and `groupId`.');
  }
  rejectUnknownKeys('consumer', input, consumerOptionKeys, consumerOptionAliases);
  const kafka = resolveKafkaConfig(input.kafka, 'consumer.kafka');
  const groupId = requireNonEmptyString('consumer.groupId', input.groupId);
  const sessionTimeoutMs = requireDurationMs(
    'consumer.sessionTimeoutMs',
    input.sessionTimeoutMs ?? 30_000,
    1,
  );
  const heartbeatIntervalMs = requireDurationMs(
    'consumer.heartbeatIntervalMs',
    input.heartbeatIntervalMs ?? 3_000,
    1,
  );
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigError(
      'consumer.heartbeatIntervalMs',
      `must be lower than sessionTimeoutMs (${sessionTimeoutMs}), got ${heartbeatIntervalMs}.`,
    );
  }
  const eos = input.eos === undefined ? undefined : resolveEos(input.eos, groupId, kafka);
  return Object.freeze({
    kafka,
    groupId,
    logger: input.logger === undefined ? kafka.logger : safeLogger(input.logger),
    fromBeginning: input.fromBeginning ?? false,
    maxInFlight: requireInteger('consumer.maxInFlight', input.maxInFlight ?? 1000, 1),
    partitionsConsumedConcurrently: requireInteger(
      'consumer.partitionsConsumedConcurrently',
      input.partitionsConsumedConcurrently ?? 32,
      1,
    ),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: requireDurationMs(
      'consumer.rebalanceTimeoutMs',
      input.rebalanceTimeoutMs ?? 60_000,
      1,
    ),
    handlerTimeoutMs: requireDurationMs('consumer.handlerTimeoutMs', input.handlerTimeoutMs ?? 0),
    stopTimeoutMs: requireDurationMs('consumer.stopTimeoutMs', input.stopTimeoutMs ?? 30_000),
    commitIntervalMs: requireDurationMs('consumer.commitIntervalMs', input.commitIntervalMs ?? 1_000, 1),
    fetchMaxWaitMs: requireDurationMs('consumer.fetchMaxWaitMs', input.fetchMaxWaitMs ?? 500),
    maxBytesPerPartition: requireInteger(
      'consumer.maxBytesPerPartition',
      input.maxBytesPerPartition ?? 1_048_576,
      1,
    ),
    maxBytes: requireInteger('consumer.maxBytes', input.maxBytes ?? 10_485_760, 1),
    interceptors: Object.freeze([...(input.interceptors ?? [])]),
    onPartitionsAssigned: input.onPartitionsAssigned,
    onPartitionsRevoked: input.onPartitionsRevoked,
    onError: input.onError,
    rackId: input.rackId === undefined ? undefined : requireNonEmptyString('consumer.rackId', input.rackId),
    metadataMaxAgeMs: requireDurationMs('consumer.metadataMaxAgeMs', input.metadataMaxAgeMs ?? 300_000, 1),
    assignors: resolveAssignors(input.assignors),
    eos,
  });
}

const knownAssignors: readonly PartitionAssignor[] = ['round-robin', 'rack-aware'];

/**
 * The assignors, checked: known names, none twice. (`rack-aware` works without a `rackId` too: a
 * member with no rack takes part in the group's rack-aware assignment and gets no rack-local
 * preference.)
 */
function resolveAssignors(
  input: readonly PartitionAssignor[] | undefined,
): readonly PartitionAssignor[] | undefined {
  if (input === undefined) return undefined;
  if (!Array.isArray(input) || input.length === 0) {
    throw new ConfigError(
      'consumer.assignors',
      `expected a non-empty list of ${knownAssignors.map((a) => `'${a}'`).join(' or ')}, got ${JSON.stringify(input)}.`,
    );
  }
  for (const [i, name] of input.entries()) {
    if (!knownAssignors.includes(name)) {
      throw new ConfigError(
        `consumer.assignors[${i}]`,
        `unknown assignor ${JSON.stringify(name)}: expected ${knownAssignors.map((a) => `'${a}'`).join(' or ')}.`,
      );
    }
    if (input.indexOf(name) !== i) {
      throw new ConfigError(`consumer.assignors[${i}]`, `'${name}' is listed twice.`);
    }
  }
  return Object.freeze([...input]);
}

/**
 * The exactly-once options, checked here rather than when the first partition's transactional
 * producer is made: the producer options are resolved as those producers will be, and a wrong
 * one is named under `consumer.eos.producer`, the path the caller wrote.
 */
function resolveEos(
  input: EosOptions,
  groupId: string,
  kafka: ResolvedKafkaConfig,
): ResolvedConsumerOptions['eos'] {
  rejectUnknownKeys('consumer.eos', input, eosOptionKeys);
  const transactionalIdPrefix = requireNonEmptyString(
    'consumer.eos.transactionalIdPrefix',
    input.transactionalIdPrefix ?? groupId,
  );
  const transactionTimeoutMs = requireDurationMs(
    'consumer.eos.transactionTimeoutMs',
    input.transactionTimeoutMs ?? 60_000,
    1,
  );
  const producer = {
    ...rejectUnknownKeys('consumer.eos.producer', input.producer ?? {}, eosProducerOptionKeys),
  };
  const { sasl, ...connection } = kafka;
  // The same options, in the same order, as the transactional producers get (internal/eos-runner.ts).
  resolveProducerOptions(
    {
      lingerMs: 0,
      ...(producer as EosProducerOptions),
      ...connection,
      ...(sasl === undefined ? {} : { sasl }),
      value: bytes(),
      transactionalId: `${transactionalIdPrefix}-check`,
      transactionTimeoutMs,
    },
    'consumer.eos.producer',
  );
  return Object.freeze({
    transactionalIdPrefix,
    transactionTimeoutMs,
    producer: producer as EosProducerOptions,
  });
}
