/**
 * `@cascade/transport`: the seam between Cascade and the Kafka client under it, and the
 * connection config every Cascade package takes. Implement {@link Transport} to run Cascade on
 * another client; `@cascade/kafkajs` is the default implementation.
 * @module
 */

export {
  isResolvedKafkaConfig,
  type KafkaConfig,
  kafkaConfigAliases,
  kafkaConfigKeys,
  type ResolvedKafkaConfig,
  resolveConnection,
  resolveKafkaConfig,
  type SaslConfig,
  type SaslOAuthBearerConfig,
  type SaslPasswordConfig,
  saslOAuthBearerKeys,
  saslPasswordKeys,
  tlsConnectionOptionKeys,
} from './connection.js';
export {
  isTransportError,
  PartialProduceFailure,
  TransportError,
  type TransportErrorCode,
  TransportErrorCodes,
  type TransportErrorKind,
  type TransportErrorOptions,
} from './errors.js';
export {
  OutboundRecord,
  type ProduceBatch,
  type ProduceResult,
  type WireHeaderValue,
  type WireRecord,
} from './records.js';
export type {
  BrokerDescription,
  FetchedBatch,
  FetchedBatchPayload,
  FetchedRecord,
  GroupDescription,
  GroupListing,
  NewTopic,
  PartitionAssignor,
  PartitionDescription,
  PartitionFetch,
  PartitionFetchRequest,
  PartitionOffset,
  PartitionOffsets,
  Produce,
  ProduceOptions,
  TopicAssignment,
  TopicDescription,
  TransactionOffsetsRequest,
  Transport,
  TransportAdmin,
  TransportClient,
  TransportConsumer,
  TransportConsumerEvents,
  TransportConsumerOptions,
  TransportPartitionReader,
  TransportProducer,
  TransportProducerOptions,
  TransportTransaction,
} from './transport.js';
