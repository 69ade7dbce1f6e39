import { ConfigError } from '@cascade/core';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { createConsumer, isStartupState } from './consumer.js';

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
  const protocolError = (type: string) =>
    Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type });

  it('takes a crash on the coordinator loading, no leader yet or a rebalance, directly or as a cause, for a start-up state', () => {
    expect(isStartupState(protocolError('GROUP_LOAD_IN_PROGRESS'))).toBe(true);
    expect(isStartupState(protocolError('GROUP_COORDINATOR_NOT_AVAILABLE'))).toBe(true);
    const retriesExceeded = Object.assign(new Error('Number of retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      cause: protocolError('LEADER_NOT_AVAILABLE'),
    });
    expect(isStartupState(retriesExceeded)).toBe(true);
    const nonRetriable = Object.assign(new Error('wrapped'), {
      originalError: protocolError('REBALANCE_IN_PROGRESS'),
    });
    expect(isStartupState(nonRetriable)).toBe(true);
  });

  it('takes a lost connection or an authorization failure for more than a start-up state', () => {
    expect(
      isStartupState(
        Object.assign(new Error('Connection error: ECONNREFUSED'), { name: 'KafkaJSConnectionError' }),
      ),
    ).toBe(false);
    expect(isStartupState(protocolError('GROUP_AUTHORIZATION_FAILED'))).toBe(false);
    expect(isStartupState('GROUP_LOAD_IN_PROGRESS')).toBe(false);
  });
});
