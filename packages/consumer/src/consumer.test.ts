import { ConfigError } from '@cascade/core';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { createConsumer } from './consumer.js';

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
