/**
 * Exponential backoff with jitter for registry retries.
 * @module
 */

/** How to space out retries. */
export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
}

/**
 * The delay before retry number `retry` (1-based): `initialDelayMs * multiplier^(retry-1)`,
 * capped at `maxDelayMs`, then scaled by a random factor in [0.5, 1] so clients that failed
 * together do not retry together.
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const exponential = policy.initialDelayMs * policy.multiplier ** Math.max(0, retry - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (0.5 + random() / 2));
}
