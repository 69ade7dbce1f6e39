/**
 * The kafkajs client of a Cascade connection config: logging bridged to the config's logger,
 * retries from its retry policy, and Cascade's kafkajs patches applied (once per process) with a
 * warning for any that declines.
 * @module
 */

import { type Logger, type LogLevel, noopLogger, type ResolvedRetryPolicy } from '@cascade/core';
import {
  isResolvedKafkaConfig,
  type KafkaConfig,
  type ResolvedKafkaConfig,
  resolveKafkaConfig,
  type SaslConfig,
} from '@cascade/transport';
import { Kafka, logLevel as KafkajsLogLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import { patchKafkajsCoordinatorRediscovery, patchKafkajsFetchFailover } from './group-patch.js';
import { kafkajsLevelOf } from './log.js';
import { reportDeclinedPatch } from './patch-report.js';
import {
  patchKafkajsAllTopicsMetadata,
  patchKafkajsNegativeTimeout,
  patchKafkajsProduceEncoding,
  patchKafkajsStuckRequests,
} from './patches.js';
import { patchKafkajsProduceTracing } from './produce-trace.js';

const toKafkajsLevel: Record<LogLevel, KafkajsLogLevel> = {
  debug: KafkajsLogLevel.DEBUG,
  info: KafkajsLogLevel.INFO,
  warn: KafkajsLogLevel.WARN,
  error: KafkajsLogLevel.ERROR,
};

/**
 * Bridges kafkajs' `logCreator` to a Cascade {@link Logger} (already redacting). Levels follow
 * {@link kafkajsLevelOf}: kafkajs' error lines for conditions it retries and recovers from
 * (a coordinator loading, a leader election, a rebalance, a connection retried) become debug or
 * warn, and error is kept for failures it gives up on. A record's `kafkajs` meta names its
 * kafkajs namespace; an `Error` kafkajs logs as the message becomes its text, the error in `error`.
 */
export function kafkajsLogCreator(logger: Logger): () => (entry: LogEntry) => void {
  return () =>
    ({ namespace, level, log }) => {
      const { message: text, timestamp: _timestamp, logger: _name, ...rest } = log;
      // kafkajs' broker pool logs some errors as the Error itself.
      const raw: unknown = text;
      const message = typeof raw === 'string' ? raw : raw instanceof Error ? raw.message : String(raw);
      const meta: Record<string, unknown> =
        raw instanceof Error && rest.error === undefined ? { ...rest, error: raw } : rest;
      const target = kafkajsLevelOf({ namespace, level, message, meta });
      if (target === 'drop') return;
      logger[target](message, { kafkajs: namespace, ...meta });
    };
}

function toKafkajsSasl(sasl: SaslConfig): SASLOptions {
  if (sasl.mechanism === 'oauthbearer') {
    return { mechanism: 'oauthbearer', oauthBearerProvider: sasl.oauthBearerProvider };
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
}

/**
 * Builds the kafkajs client for a config: logging bridged to the config's logger, retries from
 * its retry policy, and every patch of `patches.ts`, `produce-trace.ts` and `group-patch.ts`
 * applied (each warns once when it declines). The kafkajs transport's producers, consumers and
 * admin clients of one config share one such client; tests reach it through
 * `@cascade/kafkajs/internal`.
 *
 * @example
 * ```ts
 * const kafka = createKafkaClient({ brokers: ['127.0.0.1:9092'], clientId: 'billing' });
 * const admin = kafka.admin();
 * ```
 */
export function createKafkaClient(config: KafkaConfig | ResolvedKafkaConfig): Kafka {
  const resolved = isResolvedKafkaConfig(config) ? config : resolveKafkaConfig(config);
  const log = resolved.logger;
  reportDeclinedPatch(
    log,
    'negative-timeout',
    patchKafkajsNegativeTimeout(),
    'Node 24 may print TimeoutNegativeWarning for kafkajs timers.',
  );
  reportDeclinedPatch(
    log,
    'stuck-requests',
    patchKafkajsStuckRequests(),
    'a request in flight on a closing connection may never time out (a send or commit can hang after a broker restart).',
  );
  reportDeclinedPatch(
    log,
    'produce-encoding',
    patchKafkajsProduceEncoding(),
    "produce requests use kafkajs' slower encoder.",
  );
  reportDeclinedPatch(
    log,
    'produce-tracing',
    patchKafkajsProduceTracing(),
    'a batch stored by one broker of a split request may be sent again (a duplicate under idempotence after a leader change).',
  );
  reportDeclinedPatch(
    log,
    'all-topics-metadata',
    patchKafkajsAllTopicsMetadata(),
    'a producer start fails while any partition of the cluster is offline.',
  );
  reportDeclinedPatch(
    log,
    'coordinator-rediscovery',
    patchKafkajsCoordinatorRediscovery(),
    "after the group coordinator's broker dies, commits go to the dead node until the member rejoins (consumption nearly stops for a minute or more).",
  );
  reportDeclinedPatch(
    log,
    'fetch-failover',
    patchKafkajsFetchFailover(),
    'one unreachable broker stops the fetches of every broker, and a dead preferred read replica is kept until metadataMaxAgeMs.',
  );
  const silent = resolved.logger === noopLogger;
  return new Kafka({
    brokers: [...resolved.brokers],
    clientId: resolved.clientId,
    ssl: resolved.ssl,
    ...(resolved.sasl === undefined ? {} : { sasl: toKafkajsSasl(resolved.sasl) }),
    connectionTimeout: resolved.connectionTimeoutMs,
    authenticationTimeout: resolved.authenticationTimeoutMs,
    requestTimeout: resolved.requestTimeoutMs,
    enforceRequestTimeout: true,
    retry: toKafkajsRetry(resolved.retry),
    logLevel: silent ? KafkajsLogLevel.NOTHING : toKafkajsLevel[resolved.clientLogLevel],
    logCreator: kafkajsLogCreator(resolved.logger),
  });
}

/** kafkajs' retry options for a resolved policy. */
export function toKafkajsRetry(policy: ResolvedRetryPolicy): {
  initialRetryTime: number;
  maxRetryTime: number;
  multiplier: number;
  factor: number;
  retries: number;
} {
  return {
    initialRetryTime: policy.initialIntervalMs,
    maxRetryTime: policy.maximumIntervalMs,
    multiplier: policy.backoffCoefficient,
    factor: policy.jitter,
    retries: policy.maximumAttempts === 0 ? Number.MAX_SAFE_INTEGER : Math.max(0, policy.maximumAttempts - 1),
  };
}

/**
 * A transactional producer's first kafkajs send retry, in ms. The send retried most is the first
 * of a transaction begun while the previous commit is still completing (`CONCURRENT_TRANSACTIONS`),
 * which clears within milliseconds: with the default 300 ms first interval about one back-to-back
 * transaction in eight waited 300 ms. The Java client retries that case after 20 ms as well.
 */
export const transactionRetryStartMs = 20;

/**
 * kafkajs retry settings for a transactional producer's sends: the first retry after
 * {@link transactionRetryStartMs}, and as many more retries as it takes for the backoffs to add
 * up to at least what the policy's own schedule waits, so a broker outage is ridden out as long
 * as before (the retries only start sooner).
 */
export function toTransactionalKafkajsRetry(policy: ResolvedRetryPolicy): ReturnType<typeof toKafkajsRetry> {
  const retry = toKafkajsRetry(policy);
  if (retry.initialRetryTime <= transactionRetryStartMs || retry.retries === Number.MAX_SAFE_INTEGER) {
    return { ...retry, initialRetryTime: Math.min(retry.initialRetryTime, transactionRetryStartMs) };
  }
  const backoff = (first: number, i: number) => Math.min(first * retry.multiplier ** i, retry.maxRetryTime);
  let budget = 0;
  for (let i = 0; i < retry.retries; i++) budget += backoff(retry.initialRetryTime, i);
  let retries = 0;
  for (let waited = 0; waited < budget; retries++) waited += backoff(transactionRetryStartMs, retries);
  return { ...retry, initialRetryTime: transactionRetryStartMs, retries };
}
