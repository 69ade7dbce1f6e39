/**
 * The key lists of the TCC helpers' options (`tccCommands`, `tccCommandMap`, `tccHttpHandler`,
 * `createTccGuard`, `httpTccParticipant`, `postgresGuardStore`), each checked against its
 * interface at compile time ({@link optionKeys}). The helpers refuse an unknown or misspelt key
 * with a `ConfigError` naming it and the nearest known key (`rejectUnknownKeys`).
 * @module
 */

import { optionKeys } from '@cascade/core';
import type { TccGuardOptions } from './guard.js';
import type { PostgresGuardStoreOptions } from './guard-postgres.js';
import type { HttpTccParticipantOptions } from './http-adapter.js';
import type { TccHttpHandlerOptions } from './http-participant.js';
import type { TccParticipantOptions } from './participant.js';

/** The keys of {@link TccParticipantOptions}. */
export const tccParticipantOptionKeys = optionKeys<TccParticipantOptions<unknown>>({
  guard: true,
  resource: true,
  defaultTtlMs: true,
  intentFirst: true,
});

/** The keys of {@link TccHttpHandlerOptions}: those of {@link TccParticipantOptions} and its own. */
export const tccHttpHandlerOptionKeys: readonly (keyof TccHttpHandlerOptions<unknown>)[] = Object.freeze([
  ...tccParticipantOptionKeys,
  ...optionKeys<Omit<TccHttpHandlerOptions<unknown>, keyof TccParticipantOptions<unknown>>>({
    basePath: true,
    publicUrl: true,
    sweepIntervalMs: true,
    maxBodyBytes: true,
    logger: true,
  }),
]);

/** The keys of {@link TccGuardOptions}. */
export const tccGuardOptionKeys = optionKeys<TccGuardOptions<unknown>>({
  store: true,
  clock: true,
  logger: true,
});

/** The keys of {@link HttpTccParticipantOptions}. */
export const httpTccParticipantOptionKeys = optionKeys<HttpTccParticipantOptions>({
  url: true,
  timeoutMs: true,
  headers: true,
  reservationUri: true,
  maxResponseBytes: true,
});

/** The keys of {@link PostgresGuardStoreOptions}. */
export const postgresGuardStoreOptionKeys = optionKeys<PostgresGuardStoreOptions>({
  pool: true,
  schema: true,
  table: true,
});

/** The keys of `tccCommandMap`'s options: those of {@link TccParticipantOptions} but `resource`. */
export const tccCommandMapOptionKeys: readonly string[] = Object.freeze(
  tccParticipantOptionKeys.filter((key) => key !== 'resource'),
);
