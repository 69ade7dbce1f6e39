import { ConfigError } from '@cascade/core';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { checkSubscriptionOptionKeys, resolveConsumerOptions } from './options.js';

const base = { kafka: { brokers: ['127.0.0.1:9092'] }, groupId: 'g' };

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.unreachable('no ConfigError was thrown');
}

const resolve = (input: unknown) => configError(() => resolveConsumerOptions(input as never));

describe('resolveConsumerOptions: unknown and misspelt keys', () => {
  it('refuses an unknown key, listing the options when none is close', () => {
    const error = resolve({ ...base, topic: 'orders' });
    expect(error.field).toBe('consumer.topic');
    expect(error.message).toContain('unknown option. The options of consumer are: kafka, groupId, logger,');
  });

  it('suggests the key of a misspelt or differently cased one', () => {
    expect(resolve({ ...base, groupID: 'g' }).message).toBe(
      'Invalid option consumer.groupID: unknown option (option names are case-sensitive). Did you mean groupId?',
    );
    expect(resolve({ ...base, sessionTimeout: 10_000 }).message).toContain('Did you mean sessionTimeoutMs?');
    expect(resolve({ ...base, maxWaitTimeInMs: 100 }).message).toContain('Did you mean fetchMaxWaitMs?');
    expect(resolve({ ...base, partitionsConsumedConcurrenty: 2 }).field).toBe(
      'consumer.partitionsConsumedConcurrenty',
    );
  });

  it('points partitionAssigners (the kafkajs assigner objects it replaces) to assignors', () => {
    const error = resolve({ ...base, partitionAssigners: [] });
    expect(error.field).toBe('consumer.partitionAssigners');
    expect(error.message).toContain('Did you mean assignors?');
    expect(resolve({ ...base, 'partition.assignment.strategy': 'range' }).message).toContain(
      'Did you mean assignors?',
    );
  });

  it('names nested paths: kafka, its sasl, eos and eos.producer', () => {
    expect(resolve({ ...base, kafka: { brokers: ['h:1'], clientID: 'c' } }).field).toBe(
      'consumer.kafka.clientID',
    );
    expect(
      resolve({
        ...base,
        kafka: { brokers: ['h:1'], sasl: { mechanism: 'plain', username: 'u', pasword: 'p' } },
      }).field,
    ).toBe('consumer.kafka.sasl.pasword');
    const eos = resolve({ ...base, eos: { transactionTimeout: 1_000 } });
    expect(eos.field).toBe('consumer.eos.transactionTimeout');
    expect(eos.message).toContain('Did you mean transactionTimeoutMs?');
    const producer = resolve({ ...base, eos: { producer: { lingerMS: 5 } } });
    expect(producer.field).toBe('consumer.eos.producer.lingerMS');
    expect(producer.message).toContain('Did you mean lingerMs?');
  });

  it('refuses in eos.producer the producer options exactly-once mode sets itself', () => {
    for (const key of ['brokers', 'transactionalId', 'idempotent', 'value']) {
      expect(resolve({ ...base, eos: { producer: { [key]: undefined } } }).field).toBe(
        `consumer.eos.producer.${key}`,
      );
    }
  });

  it('checks eos.producer values when the consumer is created, naming them under consumer.eos.producer', () => {
    expect(resolve({ ...base, eos: { producer: { lingerMs: -1 } } }).field).toBe(
      'consumer.eos.producer.lingerMs',
    );
    expect(resolve({ ...base, eos: { producer: { acks: 'leader' } } }).field).toBe(
      'consumer.eos.producer.acks',
    );
    expect(resolve({ ...base, eos: { producer: { circuitBreaker: { resetTimeout: 1 } } } }).field).toBe(
      'consumer.eos.producer.circuitBreaker.resetTimeout',
    );
  });

  it('refuses options that are not plain objects', () => {
    expect(resolve({ ...base, eos: true }).field).toBe('consumer.eos');
    expect(resolve({ ...base, eos: { producer: [] } }).field).toBe('consumer.eos.producer');
    expect(resolve({ ...base, kafka: 'h:1' }).field).toBe('consumer.kafka');
    expect(resolve([base]).field).toBe('consumer');
  });

  it('accepts known keys set to undefined and keeps eos.producer as given', () => {
    const resolved = resolveConsumerOptions({
      ...base,
      logger: undefined,
      eos: { producer: { maxBlockMs: 5_000, lingerMs: undefined } },
    } as never);
    expect(resolved.eos?.producer).toEqual({ maxBlockMs: 5_000, lingerMs: undefined });
  });
});

describe('checkSubscriptionOptionKeys', () => {
  const subscription = { topic: 'orders', value: string(), handler: () => undefined };

  it('accepts every known key', () => {
    expect(() =>
      checkSubscriptionOptionKeys('subscriptions[0]', {
        ...subscription,
        retry: { maximumAttempts: 2 },
        retryTopics: { delaysMs: [1_000] },
        dlt: { topic: 'spring' },
        nonRetryableErrors: [],
      }),
    ).not.toThrow();
    expect(() =>
      checkSubscriptionOptionKeys('subscriptions[0]', { ...subscription, dlt: false }),
    ).not.toThrow();
  });

  it('refuses unknown and misspelt keys, naming their nested paths', () => {
    const top = configError(() =>
      checkSubscriptionOptionKeys('subscriptions[1]', { ...subscription, retryTopic: {} }),
    );
    expect(top.field).toBe('subscriptions[1].retryTopic');
    expect(top.message).toContain('Did you mean retryTopics?');
    expect(
      configError(() =>
        checkSubscriptionOptionKeys('subscriptions[0]', { ...subscription, Handler: () => 1 }),
      ).message,
    ).toContain('(option names are case-sensitive). Did you mean handler?');
    expect(
      configError(() =>
        checkSubscriptionOptionKeys('subscriptions[0]', { ...subscription, retryTopics: { delays: [1] } }),
      ).field,
    ).toBe('subscriptions[0].retryTopics.delays');
    expect(
      configError(() =>
        checkSubscriptionOptionKeys('subscriptions[0]', { ...subscription, dlt: { topics: 'x' } }),
      ).field,
    ).toBe('subscriptions[0].dlt.topics');
    expect(
      configError(() =>
        checkSubscriptionOptionKeys('subscriptions[0]', { ...subscription, retry: { retries: 3 } }),
      ).field,
    ).toBe('subscriptions[0].retry.retries');
  });

  it('refuses options that are not plain objects', () => {
    expect(configError(() => checkSubscriptionOptionKeys('subscriptions[0]', 'orders')).field).toBe(
      'subscriptions[0]',
    );
    expect(
      configError(() => checkSubscriptionOptionKeys('subscriptions[0]', { ...subscription, dlt: true }))
        .field,
    ).toBe('subscriptions[0].dlt');
  });
});

describe('resolveConsumerOptions: assignors', () => {
  it('offers the transport default when none is given, and keeps the order given', () => {
    expect(resolveConsumerOptions(base).assignors).toBeUndefined();
    expect(
      resolveConsumerOptions({ ...base, rackId: 'r1', assignors: ['rack-aware', 'round-robin'] }).assignors,
    ).toEqual(['rack-aware', 'round-robin']);
    expect(resolveConsumerOptions({ ...base, assignors: ['rack-aware'] }).assignors).toEqual(['rack-aware']);
  });

  it('refuses an empty list, an unknown assignor and one listed twice, naming the entry', () => {
    expect(resolve({ ...base, assignors: [] }).field).toBe('consumer.assignors');
    const unknown = resolve({ ...base, assignors: ['round-robin', 'range'] });
    expect(unknown.field).toBe('consumer.assignors[1]');
    expect(unknown.message).toContain("'round-robin' or 'rack-aware'");
    expect(resolve({ ...base, assignors: ['rack-aware', 'rack-aware'] }).field).toBe('consumer.assignors[1]');
  });

  it('refuses an empty rackId', () => {
    expect(resolve({ ...base, rackId: '' }).field).toBe('consumer.rackId');
  });
});
