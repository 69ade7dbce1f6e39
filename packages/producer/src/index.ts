/**
 * `@cascade/producer`: a typed Kafka producer with batching (linger, batch size,
 * back-pressure), Java-compatible partitioners, interceptors, idempotent and transactional
 * sends, typed errors and an optional circuit breaker. It runs on the transport of its
 * connection config (`@cascade/transport`; kafkajs by default).
 *
 * @example
 * ```ts
 * import { createProducer } from '@cascade/producer';
 * import { json, string } from '@cascade/schema';
 *
 * interface Order { id: string; total: number }
 * await using producer = createProducer({ kafka: { brokers: ['127.0.0.1:9092'] }, key: string(), value: json<Order>() });
 * const metadata = await producer.send({ topic: 'orders', key: 'o-1', value: { id: 'o-1', total: 42 } });
 * console.log(metadata.partition, metadata.offset);
 * ```
 * @module
 */

export {
  type KafkaConfig,
  type ResolvedKafkaConfig,
  resolveKafkaConfig,
  type SaslConfig,
  type SaslOAuthBearerConfig,
  type SaslPasswordConfig,
  type Transport,
} from '@cascade/transport';
export type { AccumulatorStats } from './accumulator.js';
export {
  type Admin,
  type AdminOptions,
  createAdmin,
  type GroupDescription,
  type GroupListing,
  type PartitionLag,
  type PartitionOffsets,
  type TopicDescription,
} from './admin.js';
export { type CircuitBreakerOptions, type CircuitState, isConnectivityError } from './circuit-breaker.js';
export {
  AuthenticationError,
  AuthorizationError,
  BufferFullError,
  CircuitOpenError,
  DeliveryTimeoutError,
  KafkaConnectionError,
  KafkaFatalError,
  KafkaRetriableError,
  NotEnoughReplicasError,
  ProducerError,
  type ProducerErrorCode,
  ProducerErrorCodes,
  type ProducerErrorContext,
  ProducerFencedError,
  ProducerSerializationError,
  RecordTooLargeError,
  TransactionStateError,
  UnknownTopicError,
} from './errors.js';
export {
  type AcknowledgementInfo,
  type ProducerInterceptor,
  runOnAcknowledgement,
  runOnSend,
} from './interceptors.js';
export { type MetricsInterceptor, type MetricsSnapshot, metricsInterceptor } from './metrics-interceptor.js';
export { murmur2, murmur2Partition, toPositive } from './murmur2.js';
export {
  type Acks,
  type ProducerConnection,
  type ProducerOptions,
  type ProducerSettings,
  type RawKey,
  type ResolvedProducerOptions,
  resolveProducerOptions,
} from './options.js';
export {
  type Partitioner,
  type PartitionerContext,
  type PartitionerRecord,
  Partitioners,
  type UniformStickyOptions,
} from './partitioners.js';
export { createProducer, type Producer } from './producer.js';
export {
  type EnsureTopicsResult,
  ensureTopics,
  type TopicReplication,
  type TopicReplicationOptions,
  type TopicSpec,
  topicReplication,
} from './topics.js';
export { producerTraceInterceptor, type TraceContextOptions } from './trace-context.js';
export type { Transaction, TransactionOffsets } from './transaction.js';
export type { OutgoingRecord, ProducerRecord, RecordMetadata, SendOptions } from './types.js';
