/**
 * What happens to a record whose handler failed: retry it in place, forward it to the next retry
 * topic, dead-letter it, or skip it.
 * @module
 */

import { findCascadeError, hasAttemptsLeft, isCascadeError } from '@cascade/core';
import { DeserializationError } from '@cascade/schema';
import { SendToDlt, SkipRecord } from '../errors.js';
import type { ErrorMatcher } from '../types.js';
import type { ResolvedSubscription } from './subscription.js';

/** The decision for a failed attempt. */
export type FailureDecision =
  | { readonly action: 'skip' }
  | { readonly action: 'retry-in-place' }
  | { readonly action: 'retry-topic'; readonly n: number }
  | { readonly action: 'dlt' };

function matches(error: unknown, matcher: ErrorMatcher): boolean {
  if (typeof matcher === 'string') {
    if (!(error instanceof Error)) return false;
    const code = (error as { code?: unknown }).code;
    return error.name === matcher || code === matcher;
  }
  return error instanceof matcher;
}

/**
 * Whether `error` may succeed on another attempt: not a poison pill (undeserializable), not
 * `SendToDlt`, not a Cascade error flagged non-retriable, not listed as non-retryable.
 */
export function isRetriableFailure(error: unknown, nonRetryable: readonly ErrorMatcher[]): boolean {
  if (error instanceof SendToDlt || error instanceof DeserializationError) return false;
  if (nonRetryable.some((matcher) => matches(error, matcher))) return false;
  if (isCascadeError(error)) return error.retriable;
  const inner = findCascadeError(error);
  if (inner !== undefined && !inner.retriable) return false;
  return true;
}

/**
 * Decides what to do after attempt number `attempt` failed with `error`. `retryStage` is 0 on
 * the source topic, `n` on retry topic `n`.
 */
export function decideFailure(
  error: unknown,
  subscription: Pick<ResolvedSubscription, 'retry' | 'retryDelaysMs' | 'nonRetryable'>,
  attemptInPlace: number,
  retryStage: number,
): FailureDecision {
  if (error instanceof SkipRecord) return { action: 'skip' };
  if (!isRetriableFailure(error, subscription.nonRetryable)) return { action: 'dlt' };
  if (retryStage === 0 && hasAttemptsLeft(subscription.retry, attemptInPlace))
    return { action: 'retry-in-place' };
  if (retryStage < subscription.retryDelaysMs.length) return { action: 'retry-topic', n: retryStage + 1 };
  return { action: 'dlt' };
}
