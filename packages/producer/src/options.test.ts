import { ConfigError } from '@cascade/core';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { resolveProducerOptions } from './options.js';

const base = { brokers: ['127.0.0.1:9092'], value: string() };

describe('resolveProducerOptions', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveProducerOptions(base);
    expect(resolved).toMatchObject({
      idempotent: true,
      acks: -1,
      ackTimeoutMs: 30_000,
      compression: 'none',
      lingerMs: 5,
      batchBytes: 524_288,
      maxInFlight: 5,
      bufferMemoryBytes: 33_554_432,
      maxBlockMs: 60_000,
      deliveryTimeoutMs: 120_000,
      transactionalId: undefined,
      transactionTimeoutMs: 60_000,
      circuitBreaker: undefined,
      metadataMaxAgeMs: 300_000,
      defaultTopic: undefined,
      interceptors: [],
    });
    expect(typeof resolved.partitioner).toBe('function');
    expect(resolved.kafka.clientId).toBe('cascade');
  });

  it('maps acks and enables the circuit breaker with defaults on true', () => {
    expect(resolveProducerOptions({ ...base, idempotent: false, acks: 'leader' }).acks).toBe(1);
    expect(resolveProducerOptions({ ...base, idempotent: false, acks: 'none' }).acks).toBe(0);
    expect(resolveProducerOptions({ ...base, circuitBreaker: true }).circuitBreaker).toEqual({});
  });

  it.each([
    [{ acks: 'leader' }, 'producer.acks'],
    [{ idempotent: false, transactionalId: 'tx' }, 'producer.idempotent'],
    [{ transactionalId: '' }, 'producer.transactionalId'],
    [{ deliveryTimeoutMs: 30_004, lingerMs: 5 }, 'producer.deliveryTimeoutMs'],
    [{ batchBytes: 0 }, 'producer.batchBytes'],
    [{ bufferMemoryBytes: 1_000, batchBytes: 2_000 }, 'producer.bufferMemoryBytes'],
    [{ maxInFlight: 0 }, 'producer.maxInFlight'],
    [{ partitioner: 'murmur2' }, 'producer.partitioner'],
    [{ interceptors: {} }, 'producer.interceptors'],
    [{ value: { serialize: 'no' } }, 'producer.value'],
    [{ key: 42 }, 'producer.key'],
    [{ brokers: [] }, 'producer.brokers'],
  ])('rejects %j naming %s', (override, field) => {
    try {
      resolveProducerOptions({ ...base, ...override } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });
});

describe('resolveProducerOptions: unknown and misspelt keys', () => {
  const fail = (input: unknown, field?: string): ConfigError => {
    try {
      resolveProducerOptions(input as never, field);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    return expect.unreachable('accepted');
  };

  it('refuses an unknown key', () => {
    const error = fail({ ...base, topic: 'orders' });
    expect(error.field).toBe('producer.topic');
    expect(error.message).toContain('unknown option. The options of producer are: kafka, brokers, clientId,');
  });

  it('suggests the key of a misspelt or differently cased one', () => {
    expect(fail({ ...base, lingerMS: 10 }).message).toBe(
      'Invalid option producer.lingerMS: unknown option (option names are case-sensitive). Did you mean lingerMs?',
    );
    expect(fail({ ...base, idempotant: true }).message).toContain('Did you mean idempotent?');
    expect(fail({ ...base, transactionalID: 'tx' }).field).toBe('producer.transactionalID');
    // Connection keys live in the same object: a misspelt one is suggested from them too.
    expect(fail({ ...base, requestTimeout: 1 }).message).toContain('Did you mean requestTimeoutMs?');
    // Names kafkajs and the Java client use.
    expect(fail({ ...base, maxInFlightRequests: 1 }).message).toContain('Did you mean maxInFlight?');
    expect(fail({ ...base, 'batch.size': 1 }).message).toContain('Did you mean batchBytes?');
    expect(fail({ ...base, 'linger.ms': 1 }).message).toContain('Did you mean lingerMs?');
  });

  it('checks the nested circuitBreaker, sasl and retry options, naming their paths', () => {
    const breaker = fail({ ...base, circuitBreaker: { resetTimeout: 1 } });
    expect(breaker.field).toBe('producer.circuitBreaker.resetTimeout');
    expect(breaker.message).toContain('Did you mean resetTimeoutMs?');
    expect(fail({ ...base, sasl: { mechanism: 'plain', user: 'u', password: 'p' } }).field).toBe(
      'producer.sasl.user',
    );
    expect(fail({ ...base, retry: { initialIntervalMS: 1 } }).field).toBe('producer.retry.initialIntervalMS');
  });

  it('refuses options that are not plain objects', () => {
    expect(fail({ ...base, circuitBreaker: 'on' }).field).toBe('producer.circuitBreaker');
    expect(fail({ ...base, circuitBreaker: new Map() }).field).toBe('producer.circuitBreaker');
    expect(fail({ ...base, circuitBreaker: null }).field).toBe('producer.circuitBreaker');
    expect(fail(['127.0.0.1:9092']).field).toBe('producer');
  });

  it('takes the connection under kafka, as every Cascade client does, and names its fields there', () => {
    const nested = resolveProducerOptions({
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'c' },
      value: string(),
    });
    expect(nested.kafka).toMatchObject({ brokers: ['127.0.0.1:9092'], clientId: 'c' });
    expect(fail({ kafka: { brokers: [] }, value: string() }).field).toBe('producer.kafka.brokers');
    expect(fail({ kafka: { brokers: ['h:1'], lingerMs: 1 }, value: string() }).field).toBe(
      'producer.kafka.lingerMs',
    );
    // Once: under kafka, or flat.
    const both = fail({ kafka: { brokers: ['h:1'] }, brokers: ['h:2'], value: string() });
    expect(both.field).toBe('producer.brokers');
    expect(both.message).toContain('give the connection once');
  });

  it('accepts known keys set to undefined, and the resolved connection of another component', () => {
    expect(resolveProducerOptions({ ...base, lingerMs: undefined, key: undefined } as never).lingerMs).toBe(
      5,
    );
    const { sasl: _sasl, ...connection } = resolveProducerOptions(base).kafka;
    expect(resolveProducerOptions({ ...connection, value: string(), lingerMs: 0 }).lingerMs).toBe(0);
  });

  it('names fields under the path a caller passes', () => {
    expect(fail({ ...base, lingerMs: -1 }, 'consumer.eos.producer').field).toBe(
      'consumer.eos.producer.lingerMs',
    );
    expect(fail({ ...base, lingrMs: 1 }, 'consumer.eos.producer').field).toBe(
      'consumer.eos.producer.lingrMs',
    );
  });
});
