/**
 * The connection config every Cascade package shares (producer, consumer, saga coordinator,
 * participant, admin), and the transport it runs on.
 * @module
 */

import type { ConnectionOptions } from 'node:tls';
import {
  ConfigError,
  type Logger,
  type LogLevel,
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
import type { Transport } from './transport.js';

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
export const saslPasswordKeys: readonly (keyof SaslPasswordConfig)[] = optionKeys<SaslPasswordConfig>({
  mechanism: true,
  username: true,
  password: true,
});
/** The keys of {@link SaslOAuthBearerConfig}. */
export const saslOAuthBearerKeys: readonly (keyof SaslOAuthBearerConfig)[] =
  optionKeys<SaslOAuthBearerConfig>({
    mechanism: true,
    oauthBearerProvider: true,
  });
const saslKeys: readonly string[] = [...new Set([...saslPasswordKeys, ...saslOAuthBearerKeys])];

/**
 * The keys of Node's `tls.connect` options, which {@link KafkaConfig.ssl} takes: a misspelt
 * `rejectUnauthorised` would otherwise be ignored (and certificates checked after all, or worse).
 */
export const tlsConnectionOptionKeys: readonly (keyof ConnectionOptions)[] = optionKeys<ConnectionOptions>({
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
   * Where Cascade and its Kafka client log. Records are redacted (SASL passwords never appear).
   * The client's records get Cascade levels: its error lines for conditions it retries and
   * recovers from are debug or warn. `noopLogger` silences both.
   * @default warnings and errors to stderr, one line each (core's default logger)
   */
  readonly logger?: Logger;
  /**
   * The lowest level of the Kafka client's own records forwarded to `logger`, as the client
   * levels them (before they are given Cascade levels).
   * @default 'info'
   */
  readonly clientLogLevel?: LogLevel;
  /**
   * The Kafka client Cascade runs on.
   * @default the kafkajs transport (`@cascade/kafkajs`)
   */
  readonly transport?: Transport | undefined;
}

/** The keys of {@link KafkaConfig}. */
export const kafkaConfigKeys: readonly (keyof KafkaConfig)[] = optionKeys<KafkaConfig>({
  brokers: true,
  clientId: true,
  ssl: true,
  sasl: true,
  connectionTimeoutMs: true,
  authenticationTimeoutMs: true,
  requestTimeoutMs: true,
  retry: true,
  logger: true,
  clientLogLevel: true,
  transport: true,
});

/** kafkajs' (and earlier Cascade) names of {@link KafkaConfig} options whose spelling is not close to Cascade's. */
export const kafkaConfigAliases: OptionAliases = Object.freeze({
  logLevel: 'clientLogLevel',
  kafkajsLogLevel: 'clientLogLevel',
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
  readonly clientLogLevel: LogLevel;
  /** `undefined`: the default transport (kafkajs), chosen by the package that connects. */
  readonly transport: Transport | undefined;
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
    clientLogLevel: requireOneOf(`${prefix}.clientLogLevel`, input.clientLogLevel ?? 'info', [
      'debug',
      'info',
      'warn',
      'error',
    ]),
    transport: requireTransport(`${prefix}.transport`, input.transport),
  });
}

function requireTransport(field: string, transport: unknown): Transport | undefined {
  if (transport === undefined) return undefined;
  const like = transport as Partial<Transport> | null;
  if (
    typeof like !== 'object' ||
    like === null ||
    typeof like.client !== 'function' ||
    typeof like.name !== 'string'
  ) {
    throw new ConfigError(
      field,
      'expected a Cascade transport (an object with `name` and `client(config)`).',
    );
  }
  return transport as Transport;
}

const resolvedMarker = new WeakSet<object>();

/** Whether `config` came from {@link resolveKafkaConfig} (or {@link resolveConnection}). */
export function isResolvedKafkaConfig(
  config: KafkaConfig | ResolvedKafkaConfig,
): config is ResolvedKafkaConfig {
  return resolvedMarker.has(config);
}

function markResolved(config: ResolvedKafkaConfig): ResolvedKafkaConfig {
  const frozen = Object.freeze(config);
  resolvedMarker.add(frozen);
  return frozen;
}
