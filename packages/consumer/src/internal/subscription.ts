/**
 * A subscription with its options resolved: serdes, handler, concurrency and failure policy.
 * @module
 */

import { ConfigError, type ResolvedRetryPolicy, requireInteger, resolveRetryPolicy } from '@cascade/core';
import { type Serde, string } from '@cascade/schema';
import { checkSubscriptionOptionKeys } from '../options.js';
import type {
  BatchHandler,
  ConcurrencyMode,
  DltOptions,
  ErrorMatcher,
  MessageHandler,
  SubscriptionOptions,
  TombstoneMode,
} from '../types.js';

/** A subscription ready to run. Types are erased here; the public API keeps them. */
export interface ResolvedSubscription {
  readonly index: number;
  /** Explicit topics, or a pattern resolved at start. */
  readonly topics: readonly string[];
  readonly pattern: RegExp | undefined;
  readonly key: Serde<unknown>;
  readonly value: Serde<unknown>;
  readonly handler: MessageHandler<unknown, unknown> | undefined;
  readonly batchHandler: BatchHandler<unknown, unknown> | undefined;
  readonly mode: ConcurrencyMode;
  readonly maxConcurrency: number;
  readonly retry: ResolvedRetryPolicy;
  readonly retryDelaysMs: readonly number[];
  /** The DLT of a source topic, or `undefined` when dead-lettering is off. */
  readonly dltTopic: ((topic: string) => string) | undefined;
  readonly nonRetryable: readonly ErrorMatcher[];
  /** Commit tombstones (null values) without calling the handler. */
  readonly skipTombstones: boolean;
}

/** The default in-place retry policy of a subscription. */
export const defaultSubscriptionRetry = {
  maximumAttempts: 3,
  initialIntervalMs: 200,
  backoffCoefficient: 2,
  maximumIntervalMs: 5_000,
  jitter: 0.2,
} as const;

/** Error names never retried unless the subscription says otherwise: programming errors. */
export const defaultNonRetryableErrors: readonly ErrorMatcher[] = Object.freeze([
  'TypeError',
  'ReferenceError',
  'SyntaxError',
  'RangeError',
]);

/** The name of retry topic `n` (from 1) of `topic`. */
export function retryTopicName(topic: string, n: number): string {
  return `${topic}.retry.${n}`;
}

/**
 * The dead-letter topic name of a topic under `dlt` (`undefined`: dead-lettering off).
 * @throws ConfigError naming `field` for a topic spec that is none of the accepted forms.
 */
export function dltNamer(
  dlt: DltOptions | false | undefined,
  field: string,
): ((topic: string) => string) | undefined {
  if (dlt === false) return undefined;
  const spec = dlt?.topic ?? 'dot';
  if (spec === 'dot') return (t) => `${t}.dlt`;
  if (spec === 'spring') return (t) => `${t}-dlt`;
  if (typeof spec === 'function') return spec;
  if (typeof spec === 'string' && spec !== '') return () => spec;
  throw new ConfigError(`${field}.topic`, "expected a topic name, a function, 'dot' or 'spring'.");
}

/** Resolves one subscription; `field` names it in errors (`subscriptions[0]`). */
export function resolveSubscription<K, V, T extends TombstoneMode>(
  options: SubscriptionOptions<K, V, T>,
  index: number,
  consumer: { readonly eos: boolean } = { eos: false },
): ResolvedSubscription {
  const field = `subscriptions[${index}]`;
  if (typeof options !== 'object' || options === null) throw new ConfigError(field, 'expected an object.');
  checkSubscriptionOptionKeys(field, options);
  const given = [options.topic, options.topics, options.pattern].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new ConfigError(`${field}.topic`, 'give exactly one of topic, topics and pattern.');
  }
  const topics = options.topic !== undefined ? [options.topic] : [...(options.topics ?? [])];
  if (
    options.pattern === undefined &&
    (topics.length === 0 || topics.some((t) => typeof t !== 'string' || t === ''))
  ) {
    throw new ConfigError(`${field}.topics`, 'expected non-empty topic names.');
  }
  if (options.pattern !== undefined && !(options.pattern instanceof RegExp)) {
    throw new ConfigError(`${field}.pattern`, 'expected a RegExp.');
  }
  if (typeof options.value?.deserialize !== 'function') {
    throw new ConfigError(`${field}.value`, 'expected a serde (string(), json(), avro(...)).');
  }
  if ((options.handler === undefined) === (options.batchHandler === undefined)) {
    throw new ConfigError(`${field}.handler`, 'give exactly one of handler and batchHandler.');
  }
  const mode = options.concurrency ?? 'partition';
  if (mode !== 'partition' && mode !== 'key') {
    throw new ConfigError(`${field}.concurrency`, `expected 'partition' or 'key', got ${String(mode)}.`);
  }
  if (mode === 'key' && options.batchHandler !== undefined) {
    throw new ConfigError(`${field}.batchHandler`, "batch handlers run in 'partition' mode only.");
  }
  if (mode === 'key' && consumer.eos) {
    throw new ConfigError(
      `${field}.concurrency`,
      "'key' concurrency cannot be combined with the consumer's eos option: exactly-once mode " +
        "handles one record at a time per partition (a batch's outputs and offsets commit in one " +
        "transaction). Use concurrency: 'partition', or drop eos for key-parallel at-least-once.",
    );
  }
  const retryDelaysMs = [...(options.retryTopics?.delaysMs ?? [])];
  retryDelaysMs.forEach((ms, i) => {
    requireInteger(`${field}.retryTopics.delaysMs[${i}]`, ms, 0);
  });
  const dltTopic = dltNamer(options.dlt, `${field}.dlt`);
  const tombstones: TombstoneMode = options.tombstones ?? 'handle';
  if (tombstones !== 'handle' && tombstones !== 'skip') {
    throw new ConfigError(`${field}.tombstones`, `expected 'handle' or 'skip', got ${String(tombstones)}.`);
  }
  return {
    index,
    topics,
    pattern: options.pattern,
    key: (options.key ?? string()) as Serde<unknown>,
    value: options.value as Serde<unknown>,
    handler: options.handler as MessageHandler<unknown, unknown> | undefined,
    batchHandler: options.batchHandler as BatchHandler<unknown, unknown> | undefined,
    mode,
    maxConcurrency: requireInteger(`${field}.maxConcurrency`, options.maxConcurrency ?? 16, 1),
    retry: resolveRetryPolicy(`${field}.retry`, { ...defaultSubscriptionRetry, ...options.retry }),
    retryDelaysMs,
    dltTopic,
    nonRetryable: options.nonRetryableErrors ?? defaultNonRetryableErrors,
    skipTombstones: tombstones === 'skip',
  };
}
