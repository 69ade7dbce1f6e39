/**
 * The producer's options, resolved once by {@link resolveProducerOptions}.
 * @module
 */

import {
  ConfigError,
  describeValue,
  type OptionAliases,
  optionKeys,
  rejectUnknownKeys,
  requireDurationMs,
  requireInteger,
  requireNonEmptyString,
  requireOneOf,
} from '@cascade/core';
import type { Serde } from '@cascade/schema';
import {
  type KafkaConfig,
  kafkaConfigAliases,
  kafkaConfigKeys,
  type ResolvedKafkaConfig,
  resolveConnection,
  resolveKafkaConfig,
} from '@cascade/transport';
import type { CircuitBreakerOptions } from './circuit-breaker.js';
import type { ProducerInterceptor } from './interceptors.js';
import { type Partitioner, Partitioners } from './partitioners.js';

/** A key given without a key serde: sent as is (strings as UTF-8). */
export type RawKey = string | Buffer;

/** Acknowledgements the producer waits for: all in-sync replicas, the leader only, or none. */
export type Acks = 'all' | 'leader' | 'none';

/**
 * Options of `createProducer`: the connection under `kafka` (as every Cascade client takes it),
 * and the producer's own settings. `K` and `V` are inferred from the `key` and `value` serdes.
 * The connection's fields given flat (`{ brokers, value }`, as before 1.0) are still accepted.
 */
export type ProducerOptions<K, V> = ProducerSettings<K, V> & (ProducerConnection | KafkaConfig);

/** The connection of a producer, as every Cascade client takes it. */
export interface ProducerConnection {
  /** How to reach the cluster: the same `KafkaConfig` the consumer, saga and admin take. */
  readonly kafka: KafkaConfig;
}

/** The producer's own options, besides its connection. */
export interface ProducerSettings<K, V> {
  /** Serializes keys. Without it, keys are `string | Buffer` sent as is. */
  readonly key?: Serde<K>;
  /** Serializes values. Required. */
  readonly value: Serde<V>;
  /** The topic of records that name none. @default undefined (every record names its topic) */
  readonly defaultTopic?: string;
  /**
   * Picks partitions for records without an explicit `partition`.
   * @default Partitioners.default() (murmur2 for keys, uniform sticky for null keys)
   */
  readonly partitioner?: Partitioner<K, V>;
  /** Interceptors, run in order. @default [] */
  readonly interceptors?: readonly ProducerInterceptor<K, V>[];
  /**
   * Idempotent delivery: the broker drops duplicates of retried batches, per partition, in order.
   * Requires `acks: 'all'`.
   * @default true
   */
  readonly idempotent?: boolean;
  /** @default 'all' */
  readonly acks?: Acks;
  /**
   * How long the broker may wait for the in-sync replicas to acknowledge a write, in ms.
   * @default 30000
   */
  readonly ackTimeoutMs?: number;
  /** Batch compression. @default 'none' */
  readonly compression?: 'none' | 'gzip';
  /**
   * How long a batch waits for more records before it is sent, in ms (Java's `linger.ms`).
   * @default 5
   */
  readonly lingerMs?: number;
  /**
   * A batch is sent once it holds this many bytes; uniform sticky moves to another partition
   * after this many bytes (Java's `batch.size`). Larger than Java's 16 KiB because kafkajs sends
   * one produce request per broker at a time under idempotence, so each request should carry more.
   * Below the broker's default `message.max.bytes` (1 MiB); a batch a topic refuses as too large
   * is split in two and sent again, so only a single record that is too large fails.
   * @default 524288
   */
  readonly batchBytes?: number;
  /**
   * Produce requests in flight per broker. kafkajs serializes produce requests per broker when
   * idempotent, so more than 1 only helps with `idempotent: false`.
   * @default 5
   */
  readonly maxInFlight?: number;
  /**
   * Bytes of records queued or in flight. When full, `send()` waits (back-pressure).
   * @default 33554432 (32 MiB)
   */
  readonly bufferMemoryBytes?: number;
  /**
   * How long `send()` waits for buffer space or topic metadata before it fails with
   * `BufferFullError` or `UnknownTopicError`, in ms.
   * @default 60000
   */
  readonly maxBlockMs?: number;
  /**
   * How long a record may take, retries included, before it fails with `DeliveryTimeoutError`.
   * At least `lingerMs + requestTimeoutMs`.
   * @default 120000
   */
  readonly deliveryTimeoutMs?: number;
  /** Makes the producer transactional: every send happens inside `transaction()`. @default undefined */
  readonly transactionalId?: string;
  /** The broker aborts a transaction open longer than this, in ms. @default 60000 */
  readonly transactionTimeoutMs?: number;
  /**
   * Fail fast while the cluster is unreachable: `true` for the defaults, or options.
   * @default false
   */
  readonly circuitBreaker?: boolean | CircuitBreakerOptions;
  /** Topic metadata (partition counts, leaders) is refreshed after this age, in ms. @default 300000 */
  readonly metadataMaxAgeMs?: number;
}

/** The producer's own keys (without the connection's). */
const producerSettingKeys = optionKeys<ProducerSettings<unknown, unknown>>({
  key: true,
  value: true,
  defaultTopic: true,
  partitioner: true,
  interceptors: true,
  idempotent: true,
  acks: true,
  ackTimeoutMs: true,
  compression: true,
  lingerMs: true,
  batchBytes: true,
  maxInFlight: true,
  bufferMemoryBytes: true,
  maxBlockMs: true,
  deliveryTimeoutMs: true,
  transactionalId: true,
  transactionTimeoutMs: true,
  circuitBreaker: true,
  metadataMaxAgeMs: true,
});

/** The keys of {@link ProducerOptions}: `kafka`, the producer's own, and the connection's given flat. */
export const producerOptionKeys: readonly string[] = Object.freeze([
  'kafka',
  ...kafkaConfigKeys,
  ...producerSettingKeys,
]);

/**
 * Names kafkajs and the Java client (`batch.size`) give producer options whose spelling is not
 * close to Cascade's, by Cascade's name for each.
 */
export const producerOptionAliases: OptionAliases = Object.freeze({
  ...kafkaConfigAliases,
  maxInFlightRequests: 'maxInFlight',
  createPartitioner: 'partitioner',
  'batch.size': 'batchBytes',
  'buffer.memory': 'bufferMemoryBytes',
  'compression.type': 'compression',
  'enable.idempotence': 'idempotent',
  'max.in.flight.requests.per.connection': 'maxInFlight',
});

/** The keys of {@link CircuitBreakerOptions}. */
export const circuitBreakerOptionKeys = optionKeys<CircuitBreakerOptions>({
  errorThresholdPercentage: true,
  resetTimeoutMs: true,
  volumeThreshold: true,
  rollingCountTimeoutMs: true,
});

/** {@link ProducerOptions} with every default applied. */
export interface ResolvedProducerOptions<K, V> {
  readonly kafka: ResolvedKafkaConfig;
  readonly key: Serde<K> | undefined;
  readonly value: Serde<V>;
  readonly defaultTopic: string | undefined;
  readonly partitioner: Partitioner<K, V>;
  readonly interceptors: readonly ProducerInterceptor<K, V>[];
  readonly idempotent: boolean;
  readonly acks: -1 | 0 | 1;
  readonly ackTimeoutMs: number;
  readonly compression: 'none' | 'gzip';
  readonly lingerMs: number;
  readonly batchBytes: number;
  readonly maxInFlight: number;
  readonly bufferMemoryBytes: number;
  readonly maxBlockMs: number;
  readonly deliveryTimeoutMs: number;
  readonly transactionalId: string | undefined;
  readonly transactionTimeoutMs: number;
  readonly circuitBreaker: CircuitBreakerOptions | undefined;
  readonly metadataMaxAgeMs: number;
}

const acksValue = { all: -1, leader: 1, none: 0 } as const;

/** The connection under `kafka`, or given flat; both at once is refused. */
function connectionOf(input: object, field: string): ResolvedKafkaConfig {
  const nested = (input as Partial<ProducerConnection>).kafka;
  if (nested === undefined) return resolveConnection(input as KafkaConfig, field);
  const flat = kafkaConfigKeys.find((key) => (input as Readonly<Record<string, unknown>>)[key] !== undefined);
  if (flat !== undefined) {
    throw new ConfigError(
      `${field}.${flat}`,
      `give the connection once: under ${field}.kafka (as every Cascade client takes it), or flat, not both.`,
    );
  }
  return resolveKafkaConfig(nested, `${field}.kafka`);
}

function requireSerde(field: string, value: unknown): void {
  const serde = value as Partial<Serde<unknown>> | undefined;
  if (typeof serde !== 'object' || serde === null || typeof serde.serialize !== 'function') {
    throw new ConfigError(
      field,
      `expected a serde with serialize() and deserialize(), got ${describeValue(value)}.`,
    );
  }
}

/**
 * Validates producer options and applies defaults; throws `ConfigError` naming the field, under
 * `field` (`${field}.lingerMs`; a component that passes producer options on names its own path,
 * e.g. `consumer.eos.producer`). An unknown key is refused, with the nearest known one suggested.
 */
export function resolveProducerOptions<K, V>(
  input: ProducerOptions<K, V>,
  field = 'producer',
): ResolvedProducerOptions<K, V> {
  if (typeof input !== 'object' || input === null) {
    throw new ConfigError(field, 'expected an options object with `brokers` and a `value` serde.');
  }
  rejectUnknownKeys(field, input, producerOptionKeys, producerOptionAliases);
  const kafka = connectionOf(input, field);
  requireSerde(`${field}.value`, input.value);
  if (input.key !== undefined) requireSerde(`${field}.key`, input.key);
  const idempotent = input.idempotent ?? true;
  if (typeof idempotent !== 'boolean') {
    throw new ConfigError(`${field}.idempotent`, `expected a boolean, got ${describeValue(idempotent)}.`);
  }
  const acks = requireOneOf(`${field}.acks`, input.acks ?? 'all', ['all', 'leader', 'none']);
  if (idempotent && acks !== 'all') {
    throw new ConfigError(
      `${field}.acks`,
      `must be 'all' when idempotent is true (got '${acks}'). Set idempotent: false to use it.`,
    );
  }
  const transactionalId =
    input.transactionalId === undefined
      ? undefined
      : requireNonEmptyString(`${field}.transactionalId`, input.transactionalId);
  if (transactionalId !== undefined && !idempotent) {
    throw new ConfigError(
      `${field}.idempotent`,
      'a transactional producer is always idempotent; remove idempotent: false.',
    );
  }
  const lingerMs = requireDurationMs(`${field}.lingerMs`, input.lingerMs ?? 5);
  const deliveryTimeoutMs = requireDurationMs(
    `${field}.deliveryTimeoutMs`,
    input.deliveryTimeoutMs ?? 120_000,
    1,
  );
  if (deliveryTimeoutMs < lingerMs + kafka.requestTimeoutMs) {
    throw new ConfigError(
      `${field}.deliveryTimeoutMs`,
      `must be at least lingerMs + requestTimeoutMs (${lingerMs + kafka.requestTimeoutMs}), got ${deliveryTimeoutMs}.`,
    );
  }
  const batchBytes = requireInteger(`${field}.batchBytes`, input.batchBytes ?? 524_288, 1);
  const bufferMemoryBytes = requireInteger(
    `${field}.bufferMemoryBytes`,
    input.bufferMemoryBytes ?? 33_554_432,
    1,
  );
  if (bufferMemoryBytes < batchBytes) {
    throw new ConfigError(
      `${field}.bufferMemoryBytes`,
      `must be at least batchBytes (${batchBytes}), got ${bufferMemoryBytes}.`,
    );
  }
  const partitioner = input.partitioner ?? Partitioners.default<K, V>();
  if (typeof partitioner !== 'function') {
    throw new ConfigError(`${field}.partitioner`, `expected a function, got ${describeValue(partitioner)}.`);
  }
  const interceptors = input.interceptors ?? [];
  if (!Array.isArray(interceptors)) {
    throw new ConfigError(`${field}.interceptors`, `expected an array, got ${describeValue(interceptors)}.`);
  }
  const breaker = input.circuitBreaker ?? false;
  if (input.circuitBreaker !== undefined && typeof input.circuitBreaker !== 'boolean') {
    rejectUnknownKeys(`${field}.circuitBreaker`, input.circuitBreaker, circuitBreakerOptionKeys);
  }
  return Object.freeze({
    kafka,
    key: input.key,
    value: input.value,
    defaultTopic:
      input.defaultTopic === undefined
        ? undefined
        : requireNonEmptyString(`${field}.defaultTopic`, input.defaultTopic),
    partitioner,
    interceptors: Object.freeze([...interceptors]),
    idempotent,
    acks: acksValue[acks],
    ackTimeoutMs: requireDurationMs(`${field}.ackTimeoutMs`, input.ackTimeoutMs ?? 30_000, 1),
    compression: requireOneOf(`${field}.compression`, input.compression ?? 'none', ['none', 'gzip']),
    lingerMs,
    batchBytes,
    maxInFlight: requireInteger(`${field}.maxInFlight`, input.maxInFlight ?? 5, 1),
    bufferMemoryBytes,
    maxBlockMs: requireDurationMs(`${field}.maxBlockMs`, input.maxBlockMs ?? 60_000, 1),
    deliveryTimeoutMs,
    transactionalId,
    transactionTimeoutMs: requireDurationMs(
      `${field}.transactionTimeoutMs`,
      input.transactionTimeoutMs ?? 60_000,
      1,
    ),
    circuitBreaker: breaker === false ? undefined : breaker === true ? {} : breaker,
    metadataMaxAgeMs: requireDurationMs(`${field}.metadataMaxAgeMs`, input.metadataMaxAgeMs ?? 300_000, 1),
  });
}
