import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { backoffDelayMs, defaultRetryPolicy, hasAttemptsLeft, resolveRetryPolicy } from './retry.js';

describe('resolveRetryPolicy', () => {
  it('fills in the documented defaults', () => {
    expect(resolveRetryPolicy('retry')).toEqual(defaultRetryPolicy);
    expect(defaultRetryPolicy).toMatchObject({
      initialIntervalMs: 300,
      backoffCoefficient: 2,
      maximumIntervalMs: 30_000,
      maximumAttempts: 6,
      jitter: 0.2,
    });
  });

  it('names the offending field of a bad policy', () => {
    expect(() => resolveRetryPolicy('kafka.retry', { backoffCoefficient: 0.5 })).toThrow(ConfigError);
    try {
      resolveRetryPolicy('kafka.retry', { initialIntervalMs: 500, maximumIntervalMs: 100 });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).field).toBe('kafka.retry.maximumIntervalMs');
    }
  });

  it('refuses a misspelt or foreign key wherever a policy is resolved, suggesting the right one', () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ maxAttempts: 3 }, 'steps.retry.maxAttempts', 'maximumAttempts'],
      [{ initialIntervalMS: 3 }, 'steps.retry.initialIntervalMS', 'initialIntervalMs'],
      [{ retries: 3 }, 'steps.retry.retries', 'maximumAttempts'],
    ];
    for (const [input, field, suggestion] of cases) {
      try {
        resolveRetryPolicy('steps.retry', input as never);
        expect.unreachable();
      } catch (error) {
        expect(error, field).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).field).toBe(field);
        expect((error as ConfigError).message).toContain(suggestion);
      }
    }
  });
});

describe('backoffDelayMs', () => {
  const policy = resolveRetryPolicy('retry', { initialIntervalMs: 100, maximumIntervalMs: 1_000, jitter: 0 });

  it('grows by the coefficient and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelayMs(policy, retry))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('spreads delays by the jitter share', () => {
    const jittered = resolveRetryPolicy('retry', { initialIntervalMs: 100, jitter: 0.5 });
    expect(backoffDelayMs(jittered, 1, () => 0)).toBe(50);
    expect(backoffDelayMs(jittered, 1, () => 0.999_999)).toBe(150);
  });

  it('counts attempts against maximumAttempts, 0 meaning unlimited', () => {
    expect(hasAttemptsLeft(resolveRetryPolicy('r', { maximumAttempts: 2 }), 1)).toBe(true);
    expect(hasAttemptsLeft(resolveRetryPolicy('r', { maximumAttempts: 2 }), 2)).toBe(false);
    expect(hasAttemptsLeft(resolveRetryPolicy('r', { maximumAttempts: 0 }), 1_000)).toBe(true);
  });
});
