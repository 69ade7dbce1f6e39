import { ConfigError, noopLogger } from '@cascade/core';
import { string } from '@cascade/schema';
import { TransportError, type TransportErrorKind } from '@cascade/transport';
import { describe, expect, it } from 'vitest';
import { createConsumer, isStartupState } from './consumer.js';
import { ConsumerKafkaError } from './errors.js';

// Nothing connects before start(): these need no broker.
const kafka = { brokers: ['127.0.0.1:1'] };

describe('Consumer.subscribe', () => {
  it("refuses 'key' concurrency on an exactly-once consumer with a ConfigError naming concurrency and eos", () => {
    const consumer = createConsumer({ kafka, groupId: 'g', eos: {} });
    consumer.subscribe({ topic: 'first', value: string(), handler: () => {} });
    let error: unknown;
    try {
      consumer.subscribe({ topic: 'orders', value: string(), concurrency: 'key', handler: () => {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CASCADE_CONFIG');
    expect((error as ConfigError).field).toBe('subscriptions[1].concurrency');
    expect((error as ConfigError).message).toContain('eos');
  });

  it('refuses a misspelt subscription key, naming it and the key it probably means', () => {
    const consumer = createConsumer({ kafka, groupId: 'g' });
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ retryTopic: { delaysMs: [10] } }, 'subscriptions[0].retryTopic', 'retryTopics'],
      [{ retry: { maxAttempts: 2 } }, 'subscriptions[0].retry.maxAttempts', 'maximumAttempts'],
      [{ dlt: { topik: 'dead' } }, 'subscriptions[0].dlt.topik', 'topic'],
    ];
    for (const [extra, field, suggestion] of cases) {
      let error: unknown;
      try {
        consumer.subscribe({ topic: 'orders', value: string(), handler: () => {}, ...extra } as never);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
      expect((error as ConfigError).message).toContain(suggestion);
    }
  });

  it("accepts 'key' concurrency at least once, and a batch handler exactly once", () => {
    expect(() =>
      createConsumer({ kafka, groupId: 'g' }).subscribe({
        topic: 'orders',
        value: string(),
        concurrency: 'key',
        handler: () => {},
      }),
    ).not.toThrow();
    expect(() =>
      createConsumer({ kafka, groupId: 'g', eos: {} }).subscribe({
        topic: 'orders',
        value: string(),
        batchHandler: () => {},
      }),
    ).not.toThrow();
  });
});

describe('crash logging', () => {
  const transportError = (kind: TransportErrorKind, kafkaType?: string, cause?: unknown) =>
    new TransportError(kafkaType ?? kind, {
      kind,
      retriable: kind !== 'protocol',
      transport: 'test',
      ...(kafkaType === undefined ? {} : { kafkaType }),
      ...(cause === undefined ? {} : { cause }),
    });
  const protocolError = (type: string) => transportError('protocol', type);

  it('takes a crash on the coordinator loading, no leader yet or a rebalance, directly or as a cause, for a start-up state', () => {
    expect(isStartupState(protocolError('GROUP_LOAD_IN_PROGRESS'))).toBe(true);
    expect(isStartupState(protocolError('GROUP_COORDINATOR_NOT_AVAILABLE'))).toBe(true);
    expect(isStartupState(protocolError('NOT_COORDINATOR_FOR_GROUP'))).toBe(true);
    expect(isStartupState(transportError('unknown', undefined, protocolError('LEADER_NOT_AVAILABLE')))).toBe(
      true,
    );
    const wrapped = new Error('wrapped', { cause: protocolError('REBALANCE_IN_PROGRESS') });
    expect(isStartupState(wrapped)).toBe(true);
  });

  it('takes a lost connection, an authorization failure or an error of no transport for more than a start-up state', () => {
    expect(isStartupState(transportError('connection'))).toBe(false);
    expect(isStartupState(protocolError('GROUP_AUTHORIZATION_FAILED'))).toBe(false);
    // The Kafka error name counts only on a transport's error, not on any object that has a `type`.
    expect(
      isStartupState(
        Object.assign(new Error('x'), { name: 'KafkaJSProtocolError', type: 'GROUP_LOAD_IN_PROGRESS' }),
      ),
    ).toBe(false);
    expect(isStartupState('GROUP_LOAD_IN_PROGRESS')).toBe(false);
  });
});

describe('Consumer.start against an unreachable cluster', () => {
  it("rejects with a retriable ConsumerKafkaError of kind 'connection', the transport's error as its cause", async () => {
    const consumer = createConsumer({
      kafka: { brokers: ['127.0.0.1:1'], retry: { maximumAttempts: 1 } },
      groupId: 'g',
      logger: noopLogger,
    });
    consumer.subscribe({ topic: 'orders', value: string(), handler: () => {} });
    const error = await consumer.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConsumerKafkaError);
    expect(error).toMatchObject({
      code: 'CASCADE_CONSUMER_KAFKA',
      operation: 'start',
      kind: 'connection',
      retriable: true,
      groupId: 'g',
    });
    expect((error as ConsumerKafkaError).cause).toBeInstanceOf(TransportError);
    expect(consumer.state).toBe('failed');
    await consumer.stop();
  });
});
