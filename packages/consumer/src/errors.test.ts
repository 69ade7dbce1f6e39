import { type CascadeError, ConfigError, isCascadeError, isRetriable } from '@cascade/core';
import { TransportError } from '@cascade/transport';
import { describe, expect, it } from 'vitest';
import {
  CommitError,
  ConsumerCrashedError,
  ConsumerErrorCodes,
  ConsumerKafkaError,
  DecoratorError,
  DltPublishError,
  HandlerTimeoutError,
  MissingTopicsError,
  SendToDlt,
  SkipRecord,
  toConsumerError,
} from './errors.js';
import { resolveConsumerOptions } from './options.js';

describe('consumer errors', () => {
  const cases: Array<[CascadeError, string, boolean]> = [
    [new SendToDlt('x'), ConsumerErrorCodes.SendToDlt, false],
    [new SkipRecord('x'), ConsumerErrorCodes.SkipRecord, false],
    [
      new HandlerTimeoutError(5, { topic: 't', partition: 1, offset: '2' }),
      ConsumerErrorCodes.HandlerTimeout,
      true,
    ],
    [new DltPublishError('t.dlt', { topic: 't' }), ConsumerErrorCodes.DltPublish, true],
    [new MissingTopicsError(['t']), ConsumerErrorCodes.UnknownTopic, false],
    [new CommitError('g'), ConsumerErrorCodes.Commit, true],
    [new ConsumerCrashedError('g'), ConsumerErrorCodes.Crashed, false],
    [new DecoratorError('x'), ConsumerErrorCodes.Decorator, false],
    [
      new ConsumerKafkaError('x', { operation: 'start', kind: 'connection', retriable: true }),
      ConsumerErrorCodes.Kafka,
      true,
    ],
  ];

  it.each(cases)('%s has its declared code and retriable flag', (error, code, retriable) => {
    expect(error.code).toBe(code);
    expect(error.retriable).toBe(retriable);
    expect(isRetriable(error)).toBe(retriable);
    expect(isCascadeError(error)).toBe(true);
    expect(error.name).toBe(error.constructor.name);
  });

  it('declares every code once', () => {
    expect(new Set(cases.map(([, code]) => code)).size).toBe(Object.keys(ConsumerErrorCodes).length);
  });

  it('says where a handler timed out', () => {
    expect(new HandlerTimeoutError(5, { topic: 'orders', partition: 1, offset: '2' }).message).toContain(
      '(topic orders, partition 1, offset 2)',
    );
  });
});

describe('toConsumerError', () => {
  const transportError = (options: ConstructorParameters<typeof TransportError>[1]) =>
    new TransportError('Connection error: connect ECONNREFUSED 127.0.0.1:1', options);

  it('turns a transport error into a ConsumerKafkaError that keeps its kind, Kafka error name and retriable', () => {
    const cause = transportError({ kind: 'connection', retriable: true, transport: 'kafkajs' });
    const error = toConsumerError(cause, 'start', { groupId: 'billing' });
    expect(error).toBeInstanceOf(ConsumerKafkaError);
    expect(error.code).toBe('CASCADE_CONSUMER_KAFKA');
    expect(error.retriable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error).toMatchObject({ operation: 'start', kind: 'connection', groupId: 'billing' });
    expect(error.message).toBe(
      'Consumer start failed (group billing): Connection error: connect ECONNREFUSED 127.0.0.1:1. No broker could be reached: check `kafka.brokers` and that the cluster is up.',
    );
    const refused = toConsumerError(
      new TransportError('Not authorized', {
        kind: 'protocol',
        kafkaType: 'GROUP_AUTHORIZATION_FAILED',
        retriable: false,
        transport: 'kafkajs',
      }),
      'seek',
      { groupId: 'billing', topic: 'orders' },
    );
    expect(refused).toMatchObject({
      retriable: false,
      kafkaType: 'GROUP_AUTHORIZATION_FAILED',
      topic: 'orders',
    });
    expect(refused.message).toContain(
      '(group billing, topic orders): Not authorized [GROUP_AUTHORIZATION_FAILED]',
    );
  });

  it("passes the consumer's own errors through and makes anything else a non-retriable ConsumerKafkaError", () => {
    const unknownTopic = new MissingTopicsError(['orders']);
    expect(toConsumerError(unknownTopic, 'start')).toBe(unknownTopic);
    const other = toConsumerError(new Error('boom'), 'seek');
    expect(other).toBeInstanceOf(ConsumerKafkaError);
    expect(other).toMatchObject({ kind: 'unknown', retriable: false });
  });
});

describe('resolveConsumerOptions', () => {
  const base = { kafka: { brokers: ['127.0.0.1:9092'] }, groupId: 'g' };

  it('fills in the documented defaults', () => {
    const resolved = resolveConsumerOptions(base);
    expect(resolved.kafka.clientId).toBe('cascade');
    expect(resolved).toMatchObject({
      fromBeginning: false,
      maxInFlight: 1000,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3_000,
      rebalanceTimeoutMs: 60_000,
      handlerTimeoutMs: 0,
      stopTimeoutMs: 30_000,
      commitIntervalMs: 1_000,
      eos: undefined,
    });
    expect(resolveConsumerOptions({ ...base, eos: {} }).eos).toEqual({
      transactionalIdPrefix: 'g',
      transactionTimeoutMs: 60_000,
      producer: {},
    });
  });

  it.each([
    [{ ...base, groupId: '' }, 'consumer.groupId'],
    [{ ...base, kafka: { brokers: [] } }, 'consumer.kafka.brokers'],
    [{ ...base, maxInFlight: 0 }, 'consumer.maxInFlight'],
    [{ ...base, sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 }, 'consumer.heartbeatIntervalMs'],
    [{ ...base, handlerTimeoutMs: -1 }, 'consumer.handlerTimeoutMs'],
  ])('throws ConfigError naming the field (%#)', (input, field) => {
    const error = (() => {
      try {
        resolveConsumerOptions(input);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });
});
