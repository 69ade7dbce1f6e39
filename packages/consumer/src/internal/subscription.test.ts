import { ConfigError } from '@cascade/core';
import { json, string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { resolveSubscription } from './subscription.js';

describe('resolveSubscription', () => {
  it('names DLTs with dots by default, with a dash in Spring style, or as given', () => {
    const handler = (): void => {};
    expect(resolveSubscription({ topic: 't', value: json(), handler }, 0).dltTopic?.('orders')).toBe(
      'orders.dlt',
    );
    expect(
      resolveSubscription({ topic: 't', value: json(), handler, dlt: { topic: 'spring' } }, 0).dltTopic?.(
        'orders',
      ),
    ).toBe('orders-dlt');
    expect(
      resolveSubscription(
        { topic: 't', value: json(), handler, dlt: { topic: (t) => `dead.${t}` } },
        0,
      ).dltTopic?.('o'),
    ).toBe('dead.o');
    expect(
      resolveSubscription({ topic: 't', value: json(), handler, dlt: false }, 0).dltTopic,
    ).toBeUndefined();
  });

  it('resolves the default retry policy and concurrency', () => {
    const resolved = resolveSubscription({ topics: ['a', 'b'], value: string(), handler: () => {} }, 0);
    expect(resolved.topics).toEqual(['a', 'b']);
    expect(resolved.mode).toBe('partition');
    expect(resolved.maxConcurrency).toBe(16);
    expect(resolved.retry.maximumAttempts).toBe(3);
    expect(resolved.retry.initialIntervalMs).toBe(200);
  });

  it.each([
    [{ value: json(), handler: () => {} }, 'subscriptions[2].topic'],
    [{ topic: 'a', pattern: /a/, value: json(), handler: () => {} }, 'subscriptions[2].topic'],
    [{ topic: 'a', value: json() }, 'subscriptions[2].handler'],
    [{ topic: 'a', value: json(), handler: () => {}, concurrency: 'nope' }, 'subscriptions[2].concurrency'],
    [
      { topic: 'a', value: json(), handler: () => {}, retryTopics: { delaysMs: [-5] } },
      'subscriptions[2].retryTopics.delaysMs[0]',
    ],
    [
      { topic: 'a', value: json(), handler: () => {}, retry: { backoffCoefficient: 0 } },
      'subscriptions[2].retry.backoffCoefficient',
    ],
  ])('throws ConfigError naming the field (%#)', (input, field) => {
    let error: unknown;
    try {
      resolveSubscription(input as never, 2);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });
});

describe('resolveSubscription in exactly-once mode', () => {
  it("refuses 'key' concurrency, naming the concurrency and eos options", () => {
    const options = { topic: 'a', value: string(), handler: () => {}, concurrency: 'key' } as const;
    expect(resolveSubscription(options, 1).mode).toBe('key');
    let error: unknown;
    try {
      resolveSubscription(options, 1, { eos: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CASCADE_CONFIG');
    expect((error as ConfigError).field).toBe('subscriptions[1].concurrency');
    expect((error as ConfigError).message).toMatch(/'key' concurrency.*\beos\b/);
  });

  it('accepts partition concurrency and batch handlers', () => {
    expect(
      resolveSubscription({ topic: 'a', value: string(), handler: () => {} }, 0, { eos: true }).mode,
    ).toBe('partition');
    expect(
      resolveSubscription({ topic: 'a', value: string(), batchHandler: () => {} }, 0, { eos: true })
        .batchHandler,
    ).toBeTypeOf('function');
  });
});
