/**
 * The connection config every Cascade package shares (producer, consumer, saga), and
 * {@link createKafkaClient}, which builds the kafkajs client from it.
 * @module
 */

import type { ConnectionOptions } from 'node:tls';
import {
  ConfigError,
  type Logger,
  type LogLevel,
  noopLogger,
  type OptionAliases,
  optionKeys,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  rejectUnknownKeys,
  requireBrokers,
  requireDurationMs,
  requireNonEmptyString,
  requireOneOf,
  resolveRetryPolicy,
  retryPolicyAliases,
  retryPolicyKeys,
  safeLogger,
} from '@cascade/core';
import { Kafka, logLevel as KafkajsLogLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import { kafkajsLevelOf } from './internal/kafkajs-log.js';
import {
  patchKafkajsAllTopicsMetadata,
  patchKafkajsNegativeTimeout,
  patchKafkajsProduceEncoding,
  patchKafkajsStuckRequests,
} from './internal/kafkajs-patches.js';
import { reportDeclinedPatch } from './internal/patch-report.js';
import { patchKafkajsProduceTracing } from './internal/produce-trace.js';

/** SASL/PLAIN or SASL/SCRAM credentials. */
export interface SaslPasswordConfig {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  /** Never logged and never part of an error message. */
  readonly password: string;
}

/** SASL/OAUTHBEARER: a function returning a fresh token. */
export interface SaslOAuthBearerConfig {
  readonly mechanism: 'oauthbearer';
  /** Called on every (re)authentication. */
  readonly oauthBearerProvider: () => Promise<{ readonly value: string }>;
}

/** The SASL mechanisms Cascade supports. */
export type SaslConfig = SaslPasswordConfig | SaslOAuthBearerConfig;

/** The keys of {@link SaslPasswordConfig}. */
export const saslPasswordKeys = optionKeys<SaslPasswordConfig>({
  mechanism: true,
  username: true,
  password: true,
});
/** The keys of {@link SaslOAuthBearerConfig}. */
export const saslOAuthBearerKeys = optionKeys<SaslOAuthBearerConfig>({
  mechanism: true,
  oauthBearerProvider: true,
});
const saslKeys: readonly string[] = [...new Set([...saslPasswordKeys, ...saslOAuthBearerKeys])];

/**
 * The keys of Node's `tls.connect` options, which {@link KafkaConfig.ssl} takes: a misspelt
 * `rejectUnauthorised` would otherwise be ignored (and certificates checked after all, or worse).
 */
export const tlsConnectionOptionKeys = optionKeys<ConnectionOptions>({
  ALPNCallback: true,
  ALPNProtocols: true,
  SNICallback: true,
  allowPartialTrustChain: true,
  ca: true,
  cert: true,
  certificateCompression: true,
  checkServerIdentity: true,
  ciphers: true,
  clientCertEngine: true,
  crl: true,
  dhparam: true,
  ecdhCurve: true,
  enableTrace: true,
  honorCipherOrder: true,
  host: true,
  key: true,
  lookup: true,
  maxVersion: true,
  minDHSize: true,
  minVersion: true,
  passphrase: true,
  path: true,
  pfx: true,
  port: true,
  privateKeyEngine: true,
  privateKeyIdentifier: true,
  pskCallback: true,
  rejectUnauthorized: true,
  requestCert: true,
  requestOCSP: true,
  secureContext: true,
  secureOptions: true,
  secureProtocol: true,
  servername: true,
  session: true,
  sessionIdContext: true,
  sessionTimeout: true,
  sigalgs: true,
  socket: true,
  ticketKeys: true,
  timeout: true,
});

/**
 * How to reach and talk to the Kafka cluster. Shared by every Cascade package.
 *
 * @example
 * ```ts
 * const kafka: KafkaConfig = {
 *   brokers: ['kafka-1:9093'],
 *   clientId: 'orders-service',
 *   ssl: true,
 *   sasl: { mechanism: 'scram-sha-512', username: 'orders', password: secret },
 *   logger: createLogger((level, msg, meta) => pino[level](meta, msg)),
 * };
 * ```
 */
export interface KafkaConfig {
  /** Bootstrap brokers, `host:port`. Required. */
  readonly brokers: readonly string[];
  /**
   * The client id the brokers see (quotas, logs).
   * @default 'cascade'
   */
  readonly clientId?: string;
  /**
   * TLS: `true` for the system CAs, or Node `tls.connect` options (ca, cert, key, ...).
   * @default false
   */
  readonly ssl?: boolean | ConnectionOptions;
  /** SASL authentication. Requires the broker listener to expect SASL. @default undefined (none) */
  readonly sasl?: SaslConfig;
  /**
   * Timeout for opening a TCP (and TLS) connection, in milliseconds.
   * @default 3000
   */
  readonly connectionTimeoutMs?: number;
  /**
   * Timeout for the SASL handshake, in milliseconds.
   * @default 10000
   */
  readonly authenticationTimeoutMs?: number;
  /**
   * Timeout for any single request to a broker, in milliseconds.
   * @default 30000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Retries of a single broker request inside the client (connection errors, leader changes).
   * The producer retries whole batches on top of this until `deliveryTimeoutMs`.
   * @default { initialIntervalMs: 300, backoffCoefficient: 2, maximumIntervalMs: 30000, maximumAttempts: 6 }
   */
  readonly retry?: RetryPolicy;
  /**
   * Where Cascade and kafkajs log. Records are redacted (SASL passwords never appear). kafkajs'
   * records get Cascade levels: its error lines for conditions it retries and recovers from are
   * debug or warn (see {@link kafkajsLogCreator}). `noopLogger` silences both.
   * @default warnings and errors to stderr, one line each (core's default logger)
   */
  readonly logger?: Logger;
  /**
   * The lowest kafkajs level forwarded to `logger`, as kafkajs levels its records (before they
   * are given Cascade levels).
   * @default 'info'
   */
  readonly kafkajsLogLevel?: LogLevel;
}

/** The keys of {@link KafkaConfig}. */
export const kafkaConfigKeys = optionKeys<KafkaConfig>({
  brokers: true,
  clientId: true,
  ssl: true,
  sasl: true,
  connectionTimeoutMs: true,
  authenticationTimeoutMs: true,
  requestTimeoutMs: true,
  retry: true,
  logger: true,
  kafkajsLogLevel: true,
});

/** kafkajs' names of {@link KafkaConfig} options whose spelling is not close to Cascade's. */
export const kafkaConfigAliases: OptionAliases = Object.freeze({
  logLevel: 'kafkajsLogLevel',
  logCreator: 'logger',
});

/** A {@link KafkaConfig} with every default filled in. */
export interface ResolvedKafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean | ConnectionOptions;
  readonly sasl: SaslConfig | undefined;
  readonly connectionTimeoutMs: number;
  readonly authenticationTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly retry: ResolvedRetryPolicy;
  readonly logger: Logger;
  readonly kafkajsLogLevel: LogLevel;
}

const saslMechanisms = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const;

/**
 * Validates a {@link KafkaConfig} and fills in defaults. Throws `ConfigError` naming the field;
 * error messages never contain a credential. `prefix` names the option path (`kafka`, `producer`).
 */
export function resolveKafkaConfig(input: KafkaConfig, prefix = 'kafka'): ResolvedKafkaConfig {
  if (typeof input !== 'object' || input === null) {
    throw new ConfigError(prefix, 'expected an object with at least `brokers`.');
  }
  rejectUnknownKeys(prefix, input, kafkaConfigKeys, kafkaConfigAliases);
  return resolveConnection(input, prefix);
}

/**
 * {@link resolveKafkaConfig} without the check of `input`'s own keys, for options that extend
 * {@link KafkaConfig} and check their keys themselves (the producer's). Nested objects (`sasl`,
 * `ssl`, `retry`) are checked. @internal
 */
export function resolveConnection(input: KafkaConfig, prefix: string): ResolvedKafkaConfig {
  const brokers = requireBrokers(`${prefix}.brokers`, input.brokers);
  const clientId = requireNonEmptyString(`${prefix}.clientId`, input.clientId ?? 'cascade');
  const sasl = input.sasl;
  if (sasl !== undefined) {
    rejectUnknownKeys(`${prefix}.sasl`, sasl, saslKeys);
    requireOneOf(`${prefix}.sasl.mechanism`, sasl.mechanism, saslMechanisms);
    const mechanismKeys: readonly string[] =
      sasl.mechanism === 'oauthbearer' ? saslOAuthBearerKeys : saslPasswordKeys;
    const misplaced = Object.keys(sasl).find((key) => !mechanismKeys.includes(key));
    if (misplaced !== undefined) {
      throw new ConfigError(
        `${prefix}.sasl.${misplaced}`,
        `not an option of SASL mechanism '${sasl.mechanism}', which takes ${mechanismKeys.join(', ')}.`,
      );
    }
    if (sasl.mechanism === 'oauthbearer') {
      if (typeof sasl.oauthBearerProvider !== 'function') {
        throw new ConfigError(`${prefix}.sasl.oauthBearerProvider`, 'expected a function returning a token.');
      }
    } else {
      requireNonEmptyString(`${prefix}.sasl.username`, sasl.username);
      if (typeof sasl.password !== 'string' || sasl.password === '') {
        // Never describe the value: it is a secret.
        throw new ConfigError(`${prefix}.sasl.password`, 'expected a non-empty string.');
      }
    }
  }
  const ssl = input.ssl ?? false;
  if (typeof ssl !== 'boolean' && (typeof ssl !== 'object' || ssl === null)) {
    throw new ConfigError(`${prefix}.ssl`, 'expected true, false or tls.connect options.');
  }
  if (typeof ssl === 'object') rejectUnknownKeys(`${prefix}.ssl`, ssl, tlsConnectionOptionKeys);
  if (input.retry !== undefined)
    rejectUnknownKeys(`${prefix}.retry`, input.retry, retryPolicyKeys, retryPolicyAliases);
  return markResolved({
    brokers: Object.freeze(brokers),
    clientId,
    ssl,
    sasl,
    connectionTimeoutMs: requireDurationMs(
      `${prefix}.connectionTimeoutMs`,
      input.connectionTimeoutMs ?? 3_000,
      1,
    ),
    authenticationTimeoutMs: requireDurationMs(
      `${prefix}.authenticationTimeoutMs`,
      input.authenticationTimeoutMs ?? 10_000,
      1,
    ),
    requestTimeoutMs: requireDurationMs(`${prefix}.requestTimeoutMs`, input.requestTimeoutMs ?? 30_000, 1),
    retry: resolveRetryPolicy(`${prefix}.retry`, input.retry),
    logger: safeLogger(input.logger),
    kafkajsLogLevel: requireOneOf(`${prefix}.kafkajsLogLevel`, input.kafkajsLogLevel ?? 'info', [
      'debug',
      'info',
      'warn',
      'error',
    ]),
  });
}

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
 * its {@link RetryPolicy}, and the `TimeoutNegativeWarning` fix applied (see
 * `internal/kafkajs-patches.ts`). `@cascade/consumer` builds its consumers on this client.
 *
 * @example
 * ```ts
 * const kafka = createKafkaClient({ brokers: ['127.0.0.1:9092'], clientId: 'billing' });
 * const admin = kafka.admin();
 * ```
 */
export function createKafkaClient(config: KafkaConfig | ResolvedKafkaConfig): Kafka {
  const resolved = isResolved(config) ? config : resolveKafkaConfig(config);
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
    logLevel: silent ? KafkajsLogLevel.NOTHING : toKafkajsLevel[resolved.kafkajsLogLevel],
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

const resolvedMarker = new WeakSet<object>();

function isResolved(config: KafkaConfig | ResolvedKafkaConfig): config is ResolvedKafkaConfig {
  return resolvedMarker.has(config);
}

function markResolved(config: ResolvedKafkaConfig): ResolvedKafkaConfig {
  const frozen = Object.freeze(config);
  resolvedMarker.add(frozen);
  return frozen;
}
