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
