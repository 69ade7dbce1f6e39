import { isCascadeError, isRetriable } from '@cascade/core';
import { toTransportError } from '@cascade/kafkajs/internal';
import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  AuthorizationError,
  BufferFullError,
  CircuitOpenError,
  DeliveryTimeoutError,
  KafkaConnectionError,
  KafkaFatalError,
  KafkaRetriableError,
  NotEnoughReplicasError,
  ProducerErrorCodes,
  ProducerFencedError,
  ProducerSerializationError,
  RecordTooLargeError,
  TransactionStateError,
  UnknownTopicError,
} from '../errors.js';
import { toProducerError as mapTransportError } from './error-mapping.js';

/** What the producer gets from the kafkajs transport: its errors classified, then mapped. */
const toProducerError: typeof mapTransportError = (error, site) =>
  mapTransportError(isCascadeError(error) ? error : toTransportError(error), site);

const protocol = (type: string, code: number, retriable: boolean) =>
  new KafkaJSProtocolError({ message: `broker says ${type}`, type, code, retriable } as never);

describe('toProducerError', () => {
  it.each([
    [protocol('NOT_LEADER_FOR_PARTITION', 6, true), KafkaRetriableError, 'CASCADE_PRODUCER_RETRIABLE', true],
    [protocol('INVALID_PRODUCER_EPOCH', 47, false), ProducerFencedError, 'CASCADE_PRODUCER_FENCED', false],
    [
      protocol('KAFKAJS_UNKNOWN_ERROR_CODE', 90, false),
      ProducerFencedError,
      'CASCADE_PRODUCER_FENCED',
      false,
    ],
    [
      protocol('MESSAGE_TOO_LARGE', 10, false),
      RecordTooLargeError,
      'CASCADE_PRODUCER_RECORD_TOO_LARGE',
      false,
    ],
    [
      protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true),
      UnknownTopicError,
      'CASCADE_PRODUCER_UNKNOWN_TOPIC',
      false,
    ],
    [
      protocol('TOPIC_AUTHORIZATION_FAILED', 29, false),
      AuthorizationError,
      'CASCADE_PRODUCER_AUTHORIZATION',
      false,
    ],
    [protocol('REQUEST_TIMED_OUT', 7, true), DeliveryTimeoutError, 'CASCADE_PRODUCER_DELIVERY_TIMEOUT', true],
    [
      protocol('NOT_ENOUGH_REPLICAS', 19, true),
      NotEnoughReplicasError,
      'CASCADE_PRODUCER_NOT_ENOUGH_REPLICAS',
      true,
    ],
    [
      protocol('NOT_ENOUGH_REPLICAS_AFTER_APPEND', 20, true),
      NotEnoughReplicasError,
      'CASCADE_PRODUCER_NOT_ENOUGH_REPLICAS',
      true,
    ],
    [
      new KafkaJSRequestTimeoutError('Request produce timed out'),
      DeliveryTimeoutError,
      'CASCADE_PRODUCER_DELIVERY_TIMEOUT',
      true,
    ],
    [
      new KafkaJSConnectionError('Connection refused'),
      KafkaConnectionError,
      'CASCADE_PRODUCER_CONNECTION',
      true,
    ],
    [
      new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)(
        'SASL PLAIN authentication failed',
      ),
      AuthenticationError,
      'CASCADE_PRODUCER_AUTHENTICATION',
      false,
    ],
    [
      new KafkaJSError('something retriable', { retriable: true }),
      KafkaRetriableError,
      'CASCADE_PRODUCER_RETRIABLE',
      true,
    ],
    [new KafkaJSNonRetriableError('something fatal'), KafkaFatalError, 'CASCADE_PRODUCER_FATAL', false],
    [new TypeError('a bug'), KafkaFatalError, 'CASCADE_PRODUCER_FATAL', false],
    ['a string', KafkaFatalError, 'CASCADE_PRODUCER_FATAL', false],
  ])('maps %s to its typed error', (input, errorClass, code, retriable) => {
    const mapped = toProducerError(input, { operation: 'Producing', topic: 'orders', partition: 2 });
    expect(mapped).toBeInstanceOf(errorClass);
    expect(mapped).toMatchObject({ code, retriable, topic: 'orders', partition: 2 });
    expect(isRetriable(mapped)).toBe(retriable);
    expect(mapped.cause).toBe(input);
    expect(mapped.message).toMatch(/^Producing failed \(topic orders, partition 2\): /);
  });

  it('looks through kafkajs retry wrappers to the error that caused them', () => {
    const inner = protocol('MESSAGE_TOO_LARGE', 10, false);
    const wrapped = new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 5, retryTime: 100 } as never);
    const mapped = toProducerError(wrapped, { operation: 'Producing' });
    expect(mapped).toBeInstanceOf(RecordTooLargeError);
    expect(mapped.kafkaType).toBe('MESSAGE_TOO_LARGE');
  });

  it('treats an unknown error as not retriable, unlike kafkajs', () => {
    const unknown = Object.assign(new Error('who knows'), { name: 'KafkaJSSomethingNew' });
    expect(toProducerError(unknown, { operation: 'Producing' }).retriable).toBe(false);
  });

  it('passes Cascade producer errors through unchanged', () => {
    const error = new BufferFullError('full', 10);
    expect(toProducerError(error, { operation: 'x' })).toBe(error);
  });
});

describe('producer error classes', () => {
  it('report the code each class declares, and a retriable flag', () => {
    const cases = [
      [new KafkaRetriableError('m'), ProducerErrorCodes.Retriable, true],
      [new KafkaFatalError('m'), ProducerErrorCodes.Fatal, false],
      [new KafkaConnectionError('m'), ProducerErrorCodes.Connection, true],
      [new AuthenticationError('m'), ProducerErrorCodes.Authentication, false],
      [new AuthorizationError('m'), ProducerErrorCodes.Authorization, false],
      [new RecordTooLargeError('m'), ProducerErrorCodes.RecordTooLarge, false],
      [new UnknownTopicError('m'), ProducerErrorCodes.UnknownTopic, false],
      [new DeliveryTimeoutError('m'), ProducerErrorCodes.DeliveryTimeout, true],
      [new NotEnoughReplicasError('m'), ProducerErrorCodes.NotEnoughReplicas, true],
      [new ProducerFencedError('m'), ProducerErrorCodes.Fenced, false],
      [new BufferFullError('m', 1), ProducerErrorCodes.BufferFull, true],
      [new CircuitOpenError('m'), ProducerErrorCodes.CircuitOpen, true],
      [new ProducerSerializationError('m'), ProducerErrorCodes.Serialization, false],
      [new TransactionStateError('m'), ProducerErrorCodes.TransactionState, false],
    ] as const;
    expect(new Set(cases.map(([, code]) => code)).size).toBe(Object.keys(ProducerErrorCodes).length);
    for (const [error, code, retriable] of cases) {
      expect(error.code).toBe(code);
      expect(error.retriable).toBe(retriable);
      expect(error.name).toBe(error.constructor.name);
    }
  });
});
