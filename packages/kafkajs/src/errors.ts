/**
 * The one table that turns kafkajs errors into {@link TransportError}s: the Kafka protocol error
 * name when the broker sent one, else the kind of failure kafkajs' error class names. Every
 * method of the kafkajs transport rejects through {@link toTransportError}.
 * @module
 */

import { isCascadeError } from '@cascade/core';
import { TransportError, type TransportErrorKind } from '@cascade/transport';

/** The transport's name in errors and logs. */
export const transportName = 'kafkajs';

/** kafkajs error class names and the kind of failure they report. */
const kindByName: Readonly<Record<string, { kind: TransportErrorKind; retriable: boolean }>> = {
  KafkaJSSASLAuthenticationError: { kind: 'authentication', retriable: false },
  KafkaJSRequestTimeoutError: { kind: 'timeout', retriable: true },
  KafkaJSTimeout: { kind: 'timeout', retriable: true },
  KafkaJSLockTimeout: { kind: 'timeout', retriable: true },
  KafkaJSConnectionError: { kind: 'connection', retriable: true },
  KafkaJSConnectionClosedError: { kind: 'connection', retriable: true },
  KafkaJSNoBrokerAvailableError: { kind: 'connection', retriable: true },
  KafkaJSBrokerNotFound: { kind: 'connection', retriable: true },
  KafkaJSMetadataNotLoaded: { kind: 'metadata', retriable: true },
  KafkaJSTopicMetadataNotLoaded: { kind: 'metadata', retriable: true },
  KafkaJSStaleTopicMetadataAssignment: { kind: 'metadata', retriable: true },
};

/** Protocol error codes kafkajs 2.2.4 does not know by name (it reports `KAFKAJS_UNKNOWN_ERROR_CODE`). */
const typeByCode: Readonly<Record<number, { type: string; retriable: boolean }>> = {
  90: { type: 'PRODUCER_FENCED', retriable: false }, // KIP-588
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
export function unwrapKafkajsError(error: unknown): unknown {
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

/**
 * Classifies an error kafkajs threw (or one of Cascade's own from under kafkajs): Cascade errors
 * pass through; a `TransportError` keeps the original as `cause`.
 */
export function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const inner = unwrapKafkajsError(error);
  if (inner instanceof TransportError) return inner;
  const like = (typeof inner === 'object' && inner !== null ? inner : {}) as KafkajsLike;
  const message = typeof like.message === 'string' ? like.message : String(inner);
  const options = { cause: error, transport: transportName };
  if (typeof like.type === 'string' && like.type !== 'KAFKAJS_UNKNOWN_ERROR_CODE') {
    return new TransportError(message, {
      ...options,
      kind: 'protocol',
      kafkaType: like.type,
      retriable: like.retriable === true,
    });
  }
  if (typeof like.code === 'number' && typeByCode[like.code] !== undefined) {
    const { type, retriable } = typeByCode[like.code] as { type: string; retriable: boolean };
    return new TransportError(message, { ...options, kind: 'protocol', kafkaType: type, retriable });
  }
  if (typeof like.name === 'string') {
    const known = kindByName[like.name];
    if (known !== undefined)
      return new TransportError(message, { ...options, ...known, kafkaType: like.name });
  }
  // kafkajs treats anything not flagged `retriable: false` as retriable; only an explicit true is trusted.
  const isKafkajs = typeof like.name === 'string' && like.name.startsWith('KafkaJS');
  return new TransportError(message, {
    ...options,
    kind: 'unknown',
    retriable: isKafkajs && like.retriable === true && !isCascadeError(inner),
    ...(typeof like.name === 'string' && isKafkajs ? { kafkaType: like.name } : {}),
  });
}

/** Runs `fn`, rejecting with {@link toTransportError} of what it throws. */
export async function transportCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toTransportError(error);
  }
}
