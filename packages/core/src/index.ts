/**
 * `@cascade/core`: what every Cascade package shares. No Kafka code lives here.
 *
 * @example
 * ```ts
 * import { ConfigError, createLogger, isRetriable, Lifecycle } from '@cascade/core';
 *
 * const logger = createLogger((level, message, meta) => process.stdout.write(`${level} ${message} ${JSON.stringify(meta)}\n`));
 * logger.info('connecting', { brokers: ['127.0.0.1:9092'], sasl: { password: 'never printed' } });
 * // info connecting {"brokers":["127.0.0.1:9092"],"sasl":"[redacted]"}
 * ```
 * @module
 */

export {
  type AnyClass,
  type AnyMethod,
  classDecorator,
  type DualClassDecorator,
  type DualMethodDecorator,
  MethodMarks,
} from './decorators.js';
export {
  cascadeChannel,
  type DiagnosticChannelName,
  DiagnosticChannels,
} from './diagnostics.js';
export {
  errorSerializationLimits,
  isSerializedError,
  type SerializedError,
  type SerializedValue,
  serializeError,
} from './error-serialization.js';
export {
  AbortedError,
  brandErrorClass,
  CascadeError,
  type CascadeErrorCode,
  type CascadeErrorOptions,
  ClosedError,
  ConfigError,
  type CoreErrorCode,
  CoreErrorCodes,
  findCascadeError,
  isCascadeError,
  isRetriable,
  StateError,
  TimeoutError,
} from './errors.js';
export { delay, Lifecycle, type LifecycleState, throwIfAborted, withTimeout } from './lifecycle.js';
export {
  type CreateLoggerOptions,
  createLogger,
  defaultLogger,
  type Logger,
  type LogLevel,
  LogLevels,
  type LogMeta,
  type LogSink,
  noopLogger,
  redactSecrets,
  safeLogger,
} from './logger.js';
export {
  isPlainObject,
  maxSuggestionDistance,
  type OptionAliases,
  optionKeyDistance,
  optionKeys,
  optionPath,
  rejectUnknownKeys,
  requirePlainObject,
  retryPolicyAliases,
  retryPolicyKeys,
  suggestOptionKey,
} from './option-keys.js';
export {
  describeValue,
  requireBrokers,
  requireDurationMs,
  requireInteger,
  requireNonEmptyString,
  requireOneOf,
} from './options.js';
export { REDACTED, redactText, redactUrl } from './redact.js';
export {
  backoffDelayMs,
  defaultRetryPolicy,
  hasAttemptsLeft,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  resolveRetryPolicy,
} from './retry.js';
