/**
 * `@cascade/consumer`: typed Kafka consumers with manual commits after processing, partition and
 * key concurrency with back-pressure, in-place retries, retry topics and dead letters (with
 * Spring Kafka's headers), decorated handler classes, interceptors and exactly-once processing.
 *
 * @example
 * ```ts
 * import { createConsumer } from '@cascade/consumer';
 * import { json } from '@cascade/schema';
 *
 * await using consumer = createConsumer({ kafka: { brokers: ['127.0.0.1:9092'] }, groupId: 'billing' });
 * consumer.subscribe({
 *   topic: 'orders',
 *   value: json<{ id: string; total: number }>(),
 *   concurrency: 'key',
 *   retryTopics: { delaysMs: [1_000, 10_000] },
 *   handler: async (msg) => {
 *     await bill(msg.value.id, msg.value.total);
 *   },
 * });
 * await consumer.start();
 * ```
 * @module
 */

export { Consumer, type ConsumerStats, createConsumer } from './consumer.js';
export {
  Handler,
  type HandlerClassInfo,
  type HandlerClassOptions,
  type HandlerDecorator,
  type HandlerMethod,
  type HandlerMethodFn,
  handlerInfo,
  Subscribe,
  type SubscribeDecorator,
  type SubscribeOptions,
  type SubscribeTarget,
  subscriptionsOf,
} from './decorators.js';
export {
  buildDltHeaders,
  buildRetryHeaders,
  type DltHeaderInput,
  DltHeaders,
  int32BE,
  int64BE,
  type OriginalRecord,
  RetryHeaders,
  readRetryHeaders,
  SpringDltHeaders,
  type TimestampType,
} from './dlt-headers.js';
export {
  CommitError,
  ConsumerCrashedError,
  type ConsumerErrorCode,
  ConsumerErrorCodes,
  ConsumerKafkaError,
  type ConsumerKafkaErrorOptions,
  type ConsumerOperation,
  DecoratorError,
  DltPublishError,
  HandlerTimeoutError,
  MissingTopicsError,
  type RecordContext,
  SendToDlt,
  SkipRecord,
} from './errors.js';
export {
  type RunningHandlers,
  type StopOnSignalsOptions,
  type Stoppable,
  startHandlers,
  stopOnSignals,
} from './handlers.js';
export {
  defaultNonRetryableErrors,
  defaultSubscriptionRetry,
  retryTopicName,
} from './internal/subscription.js';
export {
  type ConsumerOptions,
  type EosOptions,
  type EosProducerOptions,
  type ResolvedConsumerOptions,
  resolveConsumerOptions,
} from './options.js';
export { ensureRetryTopics, type RetryTopicsSpec, retryTopicNames } from './topics.js';
export {
  consumerTraceInterceptor,
  continueTrace,
  currentTraceContext,
  parseTraceparent,
  type TraceContext,
} from './trace-context.js';
export type {
  BatchHandler,
  CommittedOffset,
  ConcurrencyMode,
  ConsumerInterceptor,
  DltOptions,
  ErrorMatcher,
  HandledValue,
  HandlerContext,
  Message,
  MessageHandler,
  OutputRecord,
  RetryTopicsOptions,
  SubscriptionOptions,
  TombstoneMode,
  TopicPartition,
} from './types.js';
