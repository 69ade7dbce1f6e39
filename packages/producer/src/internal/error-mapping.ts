/**
 * The one table that turns transport errors into Cascade producer errors. Everything the
 * producer throws passes through {@link toProducerError}; unknown errors are not retriable.
 * @module
 */

import { isCascadeError, redactUrl } from '@cascade/core';
import { TransportError, type TransportErrorKind } from '@cascade/transport';
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

/** What a transport error of each kind becomes when its Kafka error name is not in the table. */
const byKind: Readonly<Record<TransportErrorKind, Rule | undefined>> = {
  protocol: undefined,
  connection,
  timeout,
  authentication,
  metadata: retriable,
  unknown: undefined,
};

function ruleFor(error: TransportError): Rule {
  const byType = error.kafkaType === undefined ? undefined : byProtocolType[error.kafkaType];
  return byType ?? byKind[error.kind] ?? (error.retriable ? retriable : fatal);
}

/** What was being done when the error happened, for the message: `send to orders`, `connect`. */
export interface ErrorSite {
  readonly operation: string;
  readonly topic?: string;
  readonly partition?: number;
}

/** Whether `error` is one of the producer's own (it carries `kafkaType` and is no transport error). */
function isProducerError(error: unknown): error is ProducerError {
  return isCascadeError(error) && 'kafkaType' in error && !(error instanceof TransportError);
}

/**
 * Turns an error of the transport (or any other error from under the producer) into a Cascade
 * producer error, from the table above. Producer errors pass through unchanged.
 */
export function toProducerError(error: unknown, site: ErrorSite): ProducerError {
  if (isProducerError(error)) return error;
  const transportError =
    error instanceof TransportError
      ? error
      : new TransportError(error instanceof Error ? error.message : String(error), {
          kind: 'unknown',
          retriable: false,
          transport: 'unknown',
          cause: error,
        });
  const rule = ruleFor(transportError);
  const kafkaType = transportError.kafkaType;
  const where =
    site.topic === undefined
      ? ''
      : site.partition === undefined
        ? ` (topic ${site.topic})`
        : ` (topic ${site.topic}, partition ${site.partition})`;
  const message = redactUrl(`${site.operation} failed${where}: ${transportError.message}. ${rule.hint}`);
  const context: ProducerErrorContext = {
    cause: error instanceof TransportError ? (error.cause ?? error) : error,
    ...(site.topic === undefined ? {} : { topic: site.topic }),
    ...(site.partition === undefined ? {} : { partition: site.partition }),
    ...(kafkaType === undefined ? {} : { kafkaType }),
  };
  return rule.create(message, context);
}

/**
 * Rethrows what an admin or connection step failed with: Cascade errors of the caller's own
 * (config, timeout, producer errors) as they are, anything else as a producer error.
 */
export function toProducerFailure(error: unknown, site: ErrorSite): unknown {
  return isCascadeError(error) && !(error instanceof TransportError) ? error : toProducerError(error, site);
}
