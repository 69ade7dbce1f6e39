import { ConfigError } from '@cascade/core';
import { describe, expect, it } from 'vitest';
import { retryTopicNames } from './topics.js';

describe('retryTopicNames', () => {
  it('names the retry topics per delay and the DLT, per subscribed topic, as the consumer reads them', () => {
    expect(
      Object.fromEntries(
        retryTopicNames({ topics: ['orders', 'refunds'], retryTopics: { delaysMs: [1_000, 5_000] } }),
      ),
    ).toEqual({
      orders: ['orders.retry.1', 'orders.retry.2', 'orders.dlt'],
      refunds: ['refunds.retry.1', 'refunds.retry.2', 'refunds.dlt'],
    });
  });

  it('follows the dlt option: Spring names, a fixed topic, a function, or none', () => {
    const dlts = [
      [{ topic: 'spring' as const }, 'orders-dlt'],
      [{ topic: 'all-dead' }, 'all-dead'],
      [{ topic: (t: string) => `dead.${t}` }, 'dead.orders'],
    ] as const;
    for (const [dlt, name] of dlts) {
      expect(retryTopicNames({ topics: ['orders'], dlt }).get('orders')).toEqual([name]);
    }
    expect(
      retryTopicNames({ topics: ['orders'], dlt: false, retryTopics: { delaysMs: [10] } }).get('orders'),
    ).toEqual(['orders.retry.1']);
  });

  it('refuses a DLT spec that names no topic', () => {
    expect(() => retryTopicNames({ topics: ['orders'], dlt: { topic: '' } })).toThrow(ConfigError);
  });
});
