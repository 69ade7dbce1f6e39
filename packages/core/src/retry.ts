/**
 * Retry policies with exponential backoff and jitter, named as Temporal names them.
 * @module
 */

import { ConfigError } from './errors.js';
import { rejectUnknownKeys, retryPolicyAliases, retryPolicyKeys } from './option-keys.js';
import { requireDurationMs, requireInteger } from './options.js';

/**
 * How an operation is retried: exponential backoff from `initialIntervalMs`, multiplied by
 * `backoffCoefficient` after each attempt and capped at `maximumIntervalMs`, at most
 * `maximumAttempts` attempts in all (the first one included).
 */
export interface RetryPolicy {
  /**
   * The delay before the first retry, in milliseconds.
   * @default 300
   */
  readonly initialIntervalMs?: number;
  /**
   * The factor the delay grows by after each retry. At least 1.
   * @default 2
   */
  readonly backoffCoefficient?: number;
  /**
   * The largest delay between two attempts, in milliseconds.
   * @default 30000
   */
  readonly maximumIntervalMs?: number;
  /**
   * The number of attempts in all, the first included; `0` means unlimited.
   * @default 6
   */
  readonly maximumAttempts?: number;
  /**
   * Error `name`s or `code`s that are never retried, whatever their `retriable` flag says.
   * @default []
   */
  readonly nonRetryableErrorTypes?: readonly string[];
  /**
   * The share of each delay that is randomised, in `[0, 1]`: a delay `d` becomes a value in
   * `[d * (1 - jitter), d * (1 + jitter)]`, so retries from many clients spread out.
   * @default 0.2
   */
  readonly jitter?: number;
}

/** A {@link RetryPolicy} with every field resolved. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;

/** The defaults of {@link RetryPolicy}. */
export const defaultRetryPolicy: ResolvedRetryPolicy = Object.freeze({
  initialIntervalMs: 300,
  backoffCoefficient: 2,
  maximumIntervalMs: 30_000,
  maximumAttempts: 6,
  nonRetryableErrorTypes: [],
  jitter: 0.2,
});

/** Validates a policy and fills in defaults; throws {@link ConfigError} naming `field.<option>`. */
export function resolveRetryPolicy(field: string, input: RetryPolicy = {}): ResolvedRetryPolicy {
  // Every retry policy of every package comes through here: a misspelt key fails everywhere.
  rejectUnknownKeys(field, input, retryPolicyKeys, retryPolicyAliases);
  const policy = { ...defaultRetryPolicy, ...dropUndefined(input) };
  requireDurationMs(`${field}.initialIntervalMs`, policy.initialIntervalMs);
  requireDurationMs(`${field}.maximumIntervalMs`, policy.maximumIntervalMs);
  requireInteger(`${field}.maximumAttempts`, policy.maximumAttempts, 0);
  if (!Number.isFinite(policy.backoffCoefficient) || policy.backoffCoefficient < 1) {
    throw new ConfigError(
      `${field}.backoffCoefficient`,
      `expected a number >= 1, got ${policy.backoffCoefficient}.`,
    );
  }
  if (!Number.isFinite(policy.jitter) || policy.jitter < 0 || policy.jitter > 1) {
    throw new ConfigError(`${field}.jitter`, `expected a number between 0 and 1, got ${policy.jitter}.`);
  }
  if (policy.maximumIntervalMs < policy.initialIntervalMs) {
    throw new ConfigError(
      `${field}.maximumIntervalMs`,
      `must be >= initialIntervalMs (${policy.initialIntervalMs}), got ${policy.maximumIntervalMs}.`,
    );
  }
  return Object.freeze({ ...policy, nonRetryableErrorTypes: [...policy.nonRetryableErrorTypes] });
}

/**
 * The delay before retry number `retry` (1 for the first retry), with jitter.
 * `random` returns a number in `[0, 1)`; pass a fixed one in tests.
 */
export function backoffDelayMs(
  policy: ResolvedRetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, retry - 1);
  const base = Math.min(
    policy.initialIntervalMs * policy.backoffCoefficient ** exponent,
    policy.maximumIntervalMs,
  );
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + 2 * spread * random()));
}

/** Whether another attempt is allowed after `attempts` attempts have been made. */
export function hasAttemptsLeft(policy: ResolvedRetryPolicy, attempts: number): boolean {
  return policy.maximumAttempts === 0 || attempts < policy.maximumAttempts;
}

function dropUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}
