import { resolveRetryPolicy, TimeoutError } from '@cascade/core';
import { DeserializationError, RegistryUnavailableError } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { SendToDlt, SkipRecord } from '../errors.js';
import { decideFailure, isRetriableFailure } from './failure-policy.js';
import { defaultNonRetryableErrors } from './subscription.js';

const policy = {
  retry: resolveRetryPolicy('retry', { maximumAttempts: 3 }),
  retryDelaysMs: [100, 1000],
  nonRetryable: defaultNonRetryableErrors,
};

class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

describe('failure policy', () => {
  it('retries in place, then walks the retry topics, then dead-letters', () => {
    const error = new Error('db down');
    expect(decideFailure(error, policy, 1, 0)).toEqual({ action: 'retry-in-place' });
    expect(decideFailure(error, policy, 2, 0)).toEqual({ action: 'retry-in-place' });
    expect(decideFailure(error, policy, 3, 0)).toEqual({ action: 'retry-topic', n: 1 });
    expect(decideFailure(error, policy, 1, 1)).toEqual({ action: 'retry-topic', n: 2 });
    expect(decideFailure(error, policy, 1, 2)).toEqual({ action: 'dlt' });
  });

  it('dead-letters poison pills, SendToDlt and non-retryable errors at once, and skips SkipRecord', () => {
    const poison = new DeserializationError({ reason: 'corrupt-payload', detail: 'bad json' });
    expect(decideFailure(poison, policy, 1, 0)).toEqual({ action: 'dlt' });
    expect(decideFailure(new SendToDlt('no'), policy, 1, 0)).toEqual({ action: 'dlt' });
    expect(decideFailure(new TypeError('x is undefined'), policy, 1, 0)).toEqual({ action: 'dlt' });
    expect(decideFailure(new SkipRecord('dup'), policy, 1, 0)).toEqual({ action: 'skip' });
  });

  it('honours configured non-retryable classes and names, and Cascade retriable flags', () => {
    expect(isRetriableFailure(new PaymentDeclined('no'), [PaymentDeclined])).toBe(false);
    expect(isRetriableFailure(new PaymentDeclined('no'), ['PaymentDeclined'])).toBe(false);
    expect(isRetriableFailure(new PaymentDeclined('no'), [])).toBe(true);
    expect(isRetriableFailure(new TimeoutError('op', 5), [])).toBe(true);
    expect(isRetriableFailure(new Error('wrapped', { cause: new SendToDlt('x') }), [])).toBe(false);
    expect(
      isRetriableFailure(new Error('x', { cause: new TimeoutError('op', 1) }), ['CASCADE_TIMEOUT']),
    ).toBe(true);
  });

  it('retries a record whose serde failed transiently (registry unavailable) instead of dead-lettering it', () => {
    const outage = new RegistryUnavailableError('http://registry', 'GET /schemas/ids/4', 3, 'ECONNREFUSED');
    expect(decideFailure(outage, policy, 1, 0)).toEqual({ action: 'retry-in-place' });
  });
});
