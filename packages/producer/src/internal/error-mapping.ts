/**
 * The one table that turns kafkajs errors into Cascade producer errors. Everything the
 * producer throws passes through {@link toProducerError}; unknown errors are not retriable.
 * @module
 */

import { isCascadeError, redactUrl } from '@cascade/core';
import {
  AuthenticationError,
  AuthorizationError,
  DeliveryTimeoutError,
  KafkaConnectionError,
  KafkaFatalError,
  KafkaRetriableError,
  NotEnoughReplicasError,
  type ProducerError,
  type ProducerErrorContext,
  ProducerFencedError,
  RecordTooLargeError,
  UnknownTopicError,
} from '../errors.js';

type ErrorFactory = (message: string, context: ProducerErrorContext) => ProducerError;

interface Rule {
  readonly create: ErrorFactory;
  /** What to tell the reader to do; appended to the message. */
  readonly hint: string;
}

const fenced: Rule = {
  create: (m, c) => new ProducerFencedError(m, c),
  hint: 'Another producer with the same transactionalId has started; close this one.',
};
const tooLarge: Rule = {
  create: (m, c) => new RecordTooLargeError(m, c),
  hint: "Make the record smaller, or raise the topic's max.message.bytes.",
};
const unknownTopic: Rule = {
  create: (m, c) => new UnknownTopicError(m, c),
  hint: 'Create the topic first: the cluster does not create topics on use.',
};
const authorization: Rule = {
  create: (m, c) => new AuthorizationError(m, c),
  hint: 'Grant the principal the ACLs it needs.',
};
const authentication: Rule = {
  create: (m, c) => new AuthenticationError(m, c),
  hint: 'Check the SASL mechanism and credentials, and that the listener expects SASL.',
};
const timeout: Rule = {
  create: (m, c) => new DeliveryTimeoutError(m, c),
  hint: 'The broker did not answer in time; retrying is safe with idempotence on.',
};
const connection: Rule = {
  create: (m, c) => new KafkaConnectionError(m, c),
  hint: 'Check that the brokers are up and reachable.',
};
const notEnoughReplicas: Rule = {
  create: (m, c) => new NotEnoughReplicasError(m, c),
  hint: 'Fewer replicas are in sync than min.insync.replicas; the send succeeds once they are back (check the brokers).',
};
const retriable: Rule = {
  create: (m, c) => new KafkaRetriableError(m, c),
  hint: 'A transient broker condition; retrying may succeed.',
};
const fatal: Rule = {
  create: (m, c) => new KafkaFatalError(m, c),
  hint: 'Retrying will not help.',
};

/** Kafka protocol error types (as kafkajs names them) and their Cascade error. */
const byProtocolType: Readonly<Record<string, Rule>> = {
  INVALID_PRODUCER_EPOCH: fenced,
  PRODUCER_FENCED: fenced,
  TRANSACTION_COORDINATOR_FENCED: fenced,
  MESSAGE_TOO_LARGE: tooLarge,
  RECORD_LIST_TOO_LARGE: tooLarge,
  UNKNOWN_TOPIC_OR_PARTITION: unknownTopic,
  TOPIC_AUTHORIZATION_FAILED: authorization,
  CLUSTER_AUTHORIZATION_FAILED: authorization,
  GROUP_AUTHORIZATION_FAILED: authorization,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: authorization,
  SASL_AUTHENTICATION_FAILED: authentication,
  UNSUPPORTED_SASL_MECHANISM: authentication,
  ILLEGAL_SASL_STATE: authentication,
  REQUEST_TIMED_OUT: timeout,
  NOT_ENOUGH_REPLICAS: notEnoughReplicas,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: notEnoughReplicas,
};

/** Protocol error codes kafkajs 2.2.4 does not know by name (it reports `KAFKAJS_UNKNOWN_ERROR_CODE`). */
const byProtocolCode: Readonly<Record<number, Rule>> = {
  90: fenced, // PRODUCER_FENCED (KIP-588)
};

/** kafkajs error class names and their Cascade error. */
const byKafkajsName: Readonly<Record<string, Rule>> = {
  KafkaJSSASLAuthenticationError: authentication,
  KafkaJSRequestTimeoutError: timeout,
  KafkaJSTimeout: timeout,
  KafkaJSLockTimeout: timeout,
  KafkaJSConnectionError: connection,
  KafkaJSConnectionClosedError: connection,
  KafkaJSNoBrokerAvailableError: connection,
  KafkaJSBrokerNotFound: connection,
  KafkaJSMetadataNotLoaded: retriable,
  KafkaJSTopicMetadataNotLoaded: retriable,
  KafkaJSStaleTopicMetadataAssignment: retriable,
};

interface KafkajsLike {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly retriable?: unknown;
  readonly type?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

const wrapperNames = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError']);

/** The innermost error a kafkajs retry wrapper holds (`KafkaJSNumberOfRetriesExceeded`, ...). */
function unwrap(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof current !== 'object' || current === null) return current;
    const like = current as KafkajsLike;
    if (typeof like.name !== 'string' || !wrapperNames.has(like.name)) return current;
    const inner = like.originalError ?? like.cause;
    if (inner === undefined || inner === current) return current;
    current = inner;
  }
  return current;
}

function ruleFor(error: unknown): Rule {
  if (typeof error !== 'object' || error === null) return fatal;
  const like = error as KafkajsLike;
  if (typeof like.type === 'string' && like.type in byProtocolType) return byProtocolType[like.type] ?? fatal;
  if (typeof like.code === 'number' && like.code in byProtocolCode) return byProtocolCode[like.code] ?? fatal;
  if (typeof like.name === 'string' && like.name in byKafkajsName) return byKafkajsName[like.name] ?? fatal;
  const isKafkajs = typeof like.name === 'string' && like.name.startsWith('KafkaJS');
  // kafkajs treats anything not flagged `retriable: false` as retriable; we only trust an explicit true.
  return isKafkajs && like.retriable === true ? retriable : fatal;
}

function describe(error: unknown): { kafkaType: string | undefined; text: string } {
  if (typeof error !== 'object' || error === null) return { kafkaType: undefined, text: String(error) };
  const like = error as KafkajsLike;
  const kafkaType =
    typeof like.type === 'string' && like.type !== 'KAFKAJS_UNKNOWN_ERROR_CODE'
      ? like.type
      : typeof like.code === 'number' && like.code in byProtocolCode
        ? 'PRODUCER_FENCED'
        : typeof like.name === 'string'
          ? like.name
          : undefined;
  const text = typeof like.message === 'string' ? like.message : String(error);
  return { kafkaType, text };
}

/** What was being done when the error happened, for the message: `send to orders`, `connect`. */
export interface ErrorSite {
  readonly operation: string;
  readonly topic?: string;
  readonly partition?: number;
}

/**
 * Turns any error thrown by kafkajs (or by our own code under it) into a Cascade producer
 * error, from the table above. Cascade errors pass through unchanged.
 */
export function toProducerError(error: unknown, site: ErrorSite): ProducerError {
  if (isCascadeError(error) && 'kafkaType' in error) return error as ProducerError;
  const inner = unwrap(error);
  if (isCascadeError(inner) && 'kafkaType' in inner) return inner as ProducerError;
  const rule = ruleFor(inner);
  const { kafkaType, text } = describe(inner);
  const where =
    site.topic === undefined
      ? ''
      : site.partition === undefined
        ? ` (topic ${site.topic})`
        : ` (topic ${site.topic}, partition ${site.partition})`;
  const message = redactUrl(`${site.operation} failed${where}: ${text}. ${rule.hint}`);
  const context: ProducerErrorContext = {
    cause: error,
    ...(site.topic === undefined ? {} : { topic: site.topic }),
    ...(site.partition === undefined ? {} : { partition: site.partition }),
    ...(kafkaType === undefined ? {} : { kafkaType }),
  };
  return rule.create(message, context);
}
