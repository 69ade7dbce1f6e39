/**
 * Options of the schema registry client, resolved once with {@link resolveSchemaRegistryOptions}.
 * @module
 */

import {
  ConfigError,
  type Logger,
  optionKeys,
  rejectUnknownKeys,
  requireDurationMs,
  requireInteger,
  safeLogger,
} from '@cascade/core';

/** Registry credentials: HTTP basic auth, or a bearer token. Never logged, never in an error. */
export type RegistryAuth =
  | { readonly username: string; readonly password: string }
  | { readonly token: string | (() => string | Promise<string>) };

/** The keys of HTTP basic auth in {@link RegistryAuth}. */
export const registryBasicAuthKeys = optionKeys<Extract<RegistryAuth, { readonly username: string }>>({
  username: true,
  password: true,
});
/** The keys of bearer-token auth in {@link RegistryAuth}. */
export const registryTokenAuthKeys = optionKeys<Extract<RegistryAuth, { readonly token: unknown }>>({
  token: true,
});

/** TLS options for an `https://` registry (passed to `node:https`). */
export interface RegistryTlsOptions {
  /** Trusted CA certificate(s), PEM. @default Node's default CA store */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Client certificate chain for mutual TLS, PEM. @default undefined */
  readonly cert?: string | Buffer;
  /** Client private key for mutual TLS, PEM. @default undefined */
  readonly key?: string | Buffer;
  /** Passphrase of `key`. @default undefined */
  readonly passphrase?: string;
  /** Verify the server certificate. Turn off only for local development. @default true */
  readonly rejectUnauthorized?: boolean;
  /** Server name for SNI and certificate checks. @default the URL's host */
  readonly servername?: string;
}

/** The keys of {@link RegistryTlsOptions}. */
export const registryTlsOptionKeys = optionKeys<RegistryTlsOptions>({
  ca: true,
  cert: true,
  key: true,
  passphrase: true,
  rejectUnauthorized: true,
  servername: true,
});

/** How registry requests are retried on outages (network errors, timeouts, HTTP 5xx/429/408). */
export interface RegistryRetryOptions {
  /** Retries after the first attempt; 0 disables retrying. @default 4 */
  readonly retries?: number;
  /** Delay before the first retry. @default 100 */
  readonly initialDelayMs?: number;
  /** Upper bound of one delay. @default 2000 */
  readonly maxDelayMs?: number;
  /** Growth factor of the delay per retry. @default 2 */
  readonly multiplier?: number;
}

/** The keys of {@link RegistryRetryOptions}. */
export const registryRetryOptionKeys = optionKeys<RegistryRetryOptions>({
  retries: true,
  initialDelayMs: true,
  maxDelayMs: true,
  multiplier: true,
});

/** Options of {@link SchemaRegistry}. */
export interface SchemaRegistryOptions {
  /**
   * Base URL of the Confluent-compatible API, e.g. `https://registry:8081` or
   * `http://apicurio:8080/apis/ccompat/v7`. User info in the URL (`https://user:pw@host`) is taken
   * as basic auth and removed from the URL.
   */
  readonly url: string;
  /** Credentials. @default undefined (no auth, unless the URL has user info) */
  readonly auth?: RegistryAuth;
  /** TLS options for `https://` URLs. @default undefined (Node's defaults) */
  readonly tls?: RegistryTlsOptions;
  /** Extra HTTP headers on every request (not for credentials: use `auth`). @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** Deadline of one HTTP request. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** Retry policy for outages. */
  readonly retry?: RegistryRetryOptions;
  /**
   * Entries in each cache (schemas by id, ids by subject and schema, subject versions). Least
   * recently used entries are dropped first.
   * @default 1000
   */
  readonly cacheCapacity?: number;
  /** Where the client logs (at debug: registrations, retries). @default defaultLogger (warnings and errors to stderr) */
  readonly logger?: Logger;
}

/** The keys of {@link SchemaRegistryOptions}. */
export const schemaRegistryOptionKeys = optionKeys<SchemaRegistryOptions>({
  url: true,
  auth: true,
  tls: true,
  headers: true,
  requestTimeoutMs: true,
  retry: true,
  cacheCapacity: true,
  logger: true,
});

/** {@link SchemaRegistryOptions} after validation and defaults. */
export interface ResolvedSchemaRegistryOptions {
  readonly baseUrl: URL;
  /** The base URL as text, without credentials: safe for messages and logs. */
  readonly displayUrl: string;
  readonly auth: RegistryAuth | undefined;
  readonly tls: RegistryTlsOptions;
  readonly headers: Readonly<Record<string, string>>;
  readonly requestTimeoutMs: number;
  readonly retries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly cacheCapacity: number;
  readonly logger: Logger;
}

const forbiddenHeaders = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** Validates `input` and applies defaults. Throws {@link ConfigError} naming the bad field. */
export function resolveSchemaRegistryOptions(input: SchemaRegistryOptions): ResolvedSchemaRegistryOptions {
  if (typeof input !== 'object' || input === null) {
    throw new ConfigError('registry', 'expected an options object with at least a url.');
  }
  rejectUnknownKeys('registry', input, schemaRegistryOptionKeys);
  if (input.tls !== undefined) rejectUnknownKeys('registry.tls', input.tls, registryTlsOptionKeys);
  if (input.retry !== undefined) rejectUnknownKeys('registry.retry', input.retry, registryRetryOptionKeys);
  if (input.auth !== undefined) checkAuthKeys(input.auth);
  let baseUrl: URL;
  try {
    baseUrl = new URL(input.url);
  } catch {
    throw new ConfigError('registry.url', 'expected an absolute http:// or https:// URL.');
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
    throw new ConfigError('registry.url', `expected an http:// or https:// URL, got ${baseUrl.protocol}//.`);
  }
  let auth = input.auth;
  if (baseUrl.username !== '' || baseUrl.password !== '') {
    if (auth !== undefined) {
      throw new ConfigError('registry.auth', 'credentials are given both in the URL and in auth; keep one.');
    }
    auth = { username: decodeURIComponent(baseUrl.username), password: decodeURIComponent(baseUrl.password) };
    baseUrl.username = '';
    baseUrl.password = '';
  }
  if (auth !== undefined) validateAuth(auth);
  const headers = input.headers ?? {};
  for (const name of Object.keys(headers)) {
    if (forbiddenHeaders.has(name.toLowerCase())) {
      throw new ConfigError(
        `registry.headers.${name}`,
        'put credentials in the auth option, not in headers.',
      );
    }
  }
  if (!baseUrl.pathname.endsWith('/')) baseUrl.pathname = `${baseUrl.pathname}/`;
  const retry = input.retry ?? {};
  const resolved: ResolvedSchemaRegistryOptions = {
    baseUrl,
    displayUrl: baseUrl.href.replace(/\/$/, ''),
    auth,
    tls: input.tls ?? {},
    headers,
    requestTimeoutMs: requireDurationMs('registry.requestTimeoutMs', input.requestTimeoutMs ?? 10_000, 1),
    retries: requireInteger('registry.retry.retries', retry.retries ?? 4, 0, 100),
    initialDelayMs: requireDurationMs('registry.retry.initialDelayMs', retry.initialDelayMs ?? 100),
    maxDelayMs: requireDurationMs('registry.retry.maxDelayMs', retry.maxDelayMs ?? 2_000),
    multiplier: retry.multiplier ?? 2,
    cacheCapacity: requireInteger('registry.cacheCapacity', input.cacheCapacity ?? 1_000, 1),
    logger: safeLogger(input.logger),
  };
  if (!(resolved.multiplier >= 1) || !Number.isFinite(resolved.multiplier)) {
    throw new ConfigError('registry.retry.multiplier', 'expected a finite number >= 1.');
  }
  if (resolved.maxDelayMs < resolved.initialDelayMs) {
    throw new ConfigError('registry.retry.maxDelayMs', 'must not be below registry.retry.initialDelayMs.');
  }
  return resolved;
}

/** The auth object's keys: those of basic auth, or of a token, not a mix. */
function checkAuthKeys(auth: unknown): void {
  const given = rejectUnknownKeys('registry.auth', auth, [
    ...registryBasicAuthKeys,
    ...registryTokenAuthKeys,
  ]);
  const basic = registryBasicAuthKeys.find((key) => key in given);
  if ('token' in given && basic !== undefined) {
    throw new ConfigError(
      `registry.auth.${basic}`,
      'give either { username, password } or { token }, not both.',
    );
  }
}

function validateAuth(auth: RegistryAuth): void {
  if ('token' in auth) {
    if (typeof auth.token === 'function') return;
    if (typeof auth.token !== 'string' || auth.token === '') {
      throw new ConfigError(
        'registry.auth.token',
        'expected a non-empty string or a function returning one.',
      );
    }
    return;
  }
  if (typeof auth.username !== 'string' || auth.username === '' || typeof auth.password !== 'string') {
    throw new ConfigError('registry.auth', 'expected { username, password } or { token }.');
  }
}
