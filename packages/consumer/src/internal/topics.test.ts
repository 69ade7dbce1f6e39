import { noopLogger } from '@cascade/core';
import { json } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { MissingTopicsError } from '../errors.js';
import { resolveSubscription } from './subscription.js';
import { resolveSources } from './topics.js';

const handler = (): void => {};

describe('resolveSources', () => {
  it('adds each topic and its retry topics, with their stage and base topic', () => {
    const subscription = resolveSubscription(
      { topic: 'orders', value: json(), handler, retryTopics: { delaysMs: [100, 1000] } },
      0,
    );
    const sources = resolveSources(
      [subscription],
      new Set(['orders', 'orders.retry.1', 'orders.retry.2']),
      noopLogger,
    );
    expect([...sources.values()].map((s) => [s.topic, s.retryStage, s.baseTopic])).toEqual([
      ['orders', 0, 'orders'],
      ['orders.retry.1', 1, 'orders'],
      ['orders.retry.2', 2, 'orders'],
    ]);
  });

  it('matches patterns against existing topics, never against retry and dead-letter topics', () => {
    const subscription = resolveSubscription({ pattern: /^payments\./, value: json(), handler }, 0);
    const existing = new Set([
      'payments.eu',
      'payments.us',
      'payments.eu.dlt',
      'payments.eu-dlt',
      'payments.eu.retry.1',
      'orders',
    ]);
    expect([...resolveSources([subscription], existing, noopLogger).keys()]).toEqual([
      'payments.eu',
      'payments.us',
    ]);
  });

  it('names every missing subscribed or retry topic in one MissingTopicsError', () => {
    const subscription = resolveSubscription(
      { topics: ['a', 'b'], value: json(), handler, retryTopics: { delaysMs: [10] } },
      0,
    );
    let error: unknown;
    try {
      resolveSources([subscription], new Set(['a']), noopLogger);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingTopicsError);
    expect((error as MissingTopicsError).topics).toEqual(['a.retry.1', 'b', 'b.retry.1']);
  });
});
