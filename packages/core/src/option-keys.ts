/**
 * Unknown and misspelt option keys: every options object is checked against the keys its
 * interface declares, so `lingerMS: 10` (or kafkajs' `connectionTimeout`) fails at once with a
 * {@link ConfigError} naming the path the caller wrote and the nearest valid key, instead of
 * being ignored while the default silently applies.
 *
 * Keep one key list next to each options interface, built with {@link optionKeys}: the list is
 * checked against the interface at compile time, so a field added to the interface and not to
 * the list (or a list entry the interface lacks) does not compile.
 *
 * @example
 * ```ts
 * interface WorkerOptions { readonly lingerMs?: number; readonly retry?: RetryPolicy }
 * const workerOptionKeys = optionKeys<WorkerOptions>({ lingerMs: true, retry: true });
 *
 * rejectUnknownKeys('worker', { lingerMS: 5 }, workerOptionKeys);
 * // ConfigError: Invalid option worker.lingerMS: unknown option (option names are case-sensitive). Did you mean lingerMs?
 * ```
 * @module
 */

import { ConfigError } from './errors.js';
import type { RetryPolicy } from './retry.js';

/**
 * The keys of an options interface `T` as a frozen list. Takes an object with every key of `T`
 * set to `true` (optional keys included), so the compiler refuses a list that misses a key of
 * `T` or names one `T` does not have.
 *
 * @example
 * ```ts
 * export const registryRetryKeys = optionKeys<RegistryRetryOptions>({
 *   retries: true, initialDelayMs: true, maxDelayMs: true, multiplier: true,
 * });
 * ```
 */
export function optionKeys<T extends object>(
  keys: {
    readonly [K in keyof T]-?: K extends string ? true : never;
  },
): readonly (keyof T & string)[] {
  return Object.freeze(Object.keys(keys)) as readonly (keyof T & string)[];
}

/** The keys of {@link RetryPolicy}, for checking a retry policy given as an option. */
export const retryPolicyKeys: readonly (keyof RetryPolicy)[] = optionKeys<RetryPolicy>({
  initialIntervalMs: true,
  backoffCoefficient: true,
  maximumIntervalMs: true,
  maximumAttempts: true,
  nonRetryableErrorTypes: true,
  jitter: true,
});

/**
 * Whether `value` is a plain object: made by an object literal, `Object.create(null)`, or
 * `Object.fromEntries` (in any realm), not an array, a class instance or a function.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  // `Object.prototype` of this realm or another one (a vm context): its own prototype is null.
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * Checks that `value` is a plain object, else throws a `ConfigError` naming `field`.
 * @returns `value`, typed as a record.
 */
export function requirePlainObject(field: string, value: unknown): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new ConfigError(field || 'options', `expected an options object, got ${describeShape(value)}.`);
  }
  return value;
}

/**
 * Checks that `value` is a plain object whose own keys are all in `known`, else throws a
 * `ConfigError` naming the full path of the first unknown key (`producer.lingerMS`,
 * `kafka.sasl.pasword`) and, when one is close, the nearest known key
 * ({@link suggestOptionKey}), else the key `aliases` gives for it (another library's name for the
 * option). A known key whose value is `undefined` is fine; an unknown one is not. `field` is the
 * path of `value` itself (`''` for a top-level options object).
 *
 * @returns `value`, typed as a record.
 * @throws {ConfigError} when `value` is not a plain object, or has a key `known` lacks.
 * @example
 * ```ts
 * rejectUnknownKeys('kafka.sasl', { mechanism: 'plain', username: 'u', pasword: 'p' }, saslKeys);
 * // ConfigError: Invalid option kafka.sasl.pasword: unknown option. Did you mean password?
 * ```
 */
export function rejectUnknownKeys(
  field: string,
  value: unknown,
  known: readonly string[],
  aliases: OptionAliases = {},
): Record<string, unknown> {
  const object = requirePlainObject(field, value);
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    throw new ConfigError(optionPath(field, key), unknownKeyMessage(field, key, known, aliases));
  }
  return object;
}

/**
 * Names other libraries (or other Cascade components) use for an option, by the name the
 * options object takes instead: `{ retries: 'maximumAttempts' }` turns an unknown `retries`
 * into "did you mean maximumAttempts?" where no spelling is close.
 */
export type OptionAliases = Readonly<Record<string, string>>;

/** kafkajs' names of the {@link RetryPolicy} options, by Cascade's name for each. */
export const retryPolicyAliases: OptionAliases = Object.freeze({
  retries: 'maximumAttempts',
  initialRetryTime: 'initialIntervalMs',
  maxRetryTime: 'maximumIntervalMs',
  multiplier: 'backoffCoefficient',
  factor: 'jitter',
});

/** `field.key`, or `key` alone at the top level. */
export function optionPath(field: string, key: string): string {
  return field === '' ? key : `${field}.${key}`;
}

/**
 * The known key nearest to `key`, or `undefined` when none is close. A key that differs only
 * in case wins; otherwise the key with the smallest edit distance
 * ({@link optionKeyDistance}, case-insensitive) if it is at most {@link maxSuggestionDistance}
 * of `key`; on a tie, the one sharing the longest prefix with `key` (`linger` → `lingerMs`, not
 * `logger`), then the first in `known`.
 */
export function suggestOptionKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameButCase = known.find((candidate) => candidate.toLowerCase() === lower);
  if (sameButCase !== undefined) return sameButCase;
  let best: string | undefined;
  let bestDistance = maxSuggestionDistance(key) + 1;
  let bestPrefix = 0;
  for (const candidate of known) {
    const lowerCandidate = candidate.toLowerCase();
    const distance = optionKeyDistance(lower, lowerCandidate, bestDistance + 1);
    const prefix = commonPrefixLength(lower, lowerCandidate);
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && prefix > bestPrefix)) {
      best = candidate;
      bestDistance = distance;
      bestPrefix = prefix;
    }
  }
  return best;
}

function commonPrefixLength(a: string, b: string): number {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length++;
  return length;
}

/**
 * How many edits a misspelt key may be away from a known one to be suggested: 1 for keys of up
 * to 5 characters, 2 up to 8, 3 beyond (`pasword` → `password`, `linger` → `lingerMs`,
 * `sessionTimeout` → `sessionTimeoutMs`).
 */
export function maxSuggestionDistance(key: string): number {
  return Math.max(1, Math.min(3, Math.floor(key.length / 3)));
}

/**
 * The Damerau-Levenshtein distance of `a` and `b` in its optimal-string-alignment form: the
 * fewest insertions, deletions, substitutions and transpositions of two adjacent characters
 * that turn one into the other (`lingerMs` → `lingreMs` is 1). Case-sensitive; lower-case both
 * for a case-insensitive distance. Stops early and returns `cutoff` once the distance is known
 * to be at least `cutoff`.
 */
export function optionKeyDistance(a: string, b: string, cutoff = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) >= cutoff) return cutoff;
  // Three rows of the dynamic-programming table: two back (for transpositions), one back, this one.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  let previousMinimum = 0;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, (before[j - 2] as number) + 1);
      }
      current[j] = distance;
      rowMinimum = Math.min(rowMinimum, distance);
    }
    // Every alignment passes through this row or the one before (a transposition skips one row).
    if (Math.min(rowMinimum, previousMinimum) >= cutoff) return cutoff;
    previousMinimum = rowMinimum;
    [before, previous, current] = [previous, current, before];
  }
  return Math.min(previous[b.length] as number, cutoff);
}

function unknownKeyMessage(
  field: string,
  key: string,
  known: readonly string[],
  aliases: OptionAliases,
): string {
  const alias = Object.hasOwn(aliases, key) ? aliases[key] : undefined;
  const suggestion =
    suggestOptionKey(key, known) ?? (alias !== undefined && known.includes(alias) ? alias : undefined);
  if (suggestion !== undefined) {
    const caseOnly = suggestion.toLowerCase() === key.toLowerCase();
    return `unknown option${caseOnly ? ' (option names are case-sensitive)' : ''}. Did you mean ${suggestion}?`;
  }
  if (known.length === 0) return `unknown option: ${field || 'this call'} takes no options.`;
  return `unknown option. The options${field === '' ? '' : ` of ${field}`} are: ${known.join(', ')}.`;
}

function describeShape(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a prototype';
  }
  return value === undefined ? 'undefined' : `a ${typeof value}`;
}
