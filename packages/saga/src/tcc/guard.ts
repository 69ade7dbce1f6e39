/**
 * The TCC participant guard — the idea of Seata's TCC fence, built on atomic operations.
 *
 * Per (transaction, branch) it makes try, confirm and cancel idempotent, answers a cancel that
 * comes before any try with success and remembers it (an empty rollback, SUSPENDED), and refuses
 * a try that arrives after its cancel (a hanging try). Each phase claims the row with one atomic
 * statement — `INSERT ... ON CONFLICT DO NOTHING RETURNING`, or `UPDATE ... WHERE status IN (...)
 * RETURNING` — in the same transaction as the user's work, never with Seata's `SELECT ... FOR
 * UPDATE` then insert, which deadlocks concurrent rollback retries (apache/incubator-seata #6679,
 * #6383).
 *
 * **Record-intent-first** (`intentFirst: true` on a try), for tries with side effects outside the
 * database (HTTP calls, a cache): the guard commits a TRYING row in its own transaction before
 * the try runs, then moves it TRYING -> TRIED with the result in the try's transaction. A try that
 * fails leaves TRYING behind, so its cancel still runs the user's cancel (Seata's fence rolls its
 * row back with the failed try and swallows that cancel: #4530, #6374). If a cancel moved the
 * row to CANCELLED while the try ran, the try's transaction is rolled back, the user's cancel runs
 * again to undo what the try did outside the database, and the try is refused. A cancel of a
 * TRYING row must therefore cope with a try that did nothing, half, or all of its work.
 * @module
 */

import { ConfigError, type Logger, rejectUnknownKeys, safeLogger } from '@cascade/core';
import {
  type TccGuardKey,
  type TccGuardRow,
  TccGuardStatus,
  type TccGuardStore,
  type TccGuardTransaction,
} from './guard-store.js';
import { tccGuardOptionKeys } from './options.js';

/** The business-failure types the participant answers with when the guard refuses a phase. */
export const TccFailureTypes = {
  /** A try after its cancel (anti-hanging). HTTP 409. */
  TryAfterCancel: 'TryAfterCancel',
  /** A cancel after the confirm. HTTP 409. */
  AlreadyConfirmed: 'AlreadyConfirmed',
  /** A confirm after the cancel (or the expiry): a heuristic outcome. HTTP 410. */
  ReservationCancelled: 'ReservationCancelled',
  /** A confirm for a reservation that was never made. HTTP 404; over Kafka a retried error. */
  NotTried: 'NotTried',
  /** A confirm while an intent-first try is still running. HTTP 503; over Kafka a retried error. */
  TryInProgress: 'TryInProgress',
} as const;

/** What the try phase's work and cancel callbacks see of the stored try. */
export interface TccStoredTry {
  readonly payload: unknown;
  /** The try's result; `undefined` when the try did not finish (a TRYING row). */
  readonly result: unknown;
  readonly expiresAt: number | undefined;
}

/** The user's cancel, as the guard calls it (for an expired reservation, or an intent-first undo). */
export type TccCancelWork<Db> = (db: Db, tried: TccStoredTry, key: TccGuardKey) => Promise<unknown>;

/** Options of one try. */
export interface TccTryOptions<Db> {
  readonly resource: string;
  readonly payload: unknown;
  readonly expiresAt: number | undefined;
  /** Commit a TRYING row before the try runs. @default false */
  readonly intentFirst?: boolean;
  /** Undoes the try when a cancel overtook an intent-first try. */
  readonly cancel: TccCancelWork<Db>;
}

/** How a try ended. */
export type TccTryOutcome =
  | {
      readonly outcome: 'tried';
      readonly duplicate: boolean;
      readonly result: unknown;
      readonly expiresAt: number | undefined;
    }
  | { readonly outcome: 'refused'; readonly status: TccGuardStatus };

/** How a confirm ended. */
export type TccConfirmOutcome =
  | { readonly outcome: 'confirmed'; readonly duplicate: boolean; readonly result: unknown }
  /** Cancelled before (or, `expired`, lapsed and cancelled now): a heuristic outcome. */
  | { readonly outcome: 'cancelled'; readonly expired: boolean }
  | { readonly outcome: 'not-tried' }
  | { readonly outcome: 'in-progress' };

/** How a cancel ended. */
export type TccCancelOutcome =
  | { readonly outcome: 'cancelled'; readonly duplicate: boolean; readonly empty: boolean }
  | { readonly outcome: 'refused'; readonly status: TccGuardStatus };

/** Options of {@link TccGuard.cleanup}. */
export interface TccCleanupOptions {
  /** Delete CONFIRMED and CANCELLED rows last updated longer ago than this. @default 86_400_000 (a day) */
  readonly olderThanMs?: number;
  /**
   * Delete SUSPENDED rows (empty rollbacks) last updated longer ago than this. Must outlive the
   * longest delay a try can have (for Kafka, the command topic's retention), or a hanging try
   * arriving later is no longer refused. At least `olderThanMs`.
   * @default max(olderThanMs, 604_800_000) (7 days, Kafka's default retention)
   */
  readonly suspendedOlderThanMs?: number;
  /** Rows per DELETE. @default 500 */
  readonly batchSize?: number;
  /** @default the guard's clock */
  readonly now?: number;
}

/** Options of {@link createTccGuard}. */
export interface TccGuardOptions<Db> {
  readonly store: TccGuardStore<Db>;
  /** @default Date.now */
  readonly clock?: () => number;
  readonly logger?: Logger;
}

/** The guard. See the module documentation. */
export interface TccGuard<Db = unknown> {
  readonly store: TccGuardStore<Db>;
  /** The guard's clock (epoch ms). */
  now(): number;
  /** Runs a try once per key; `work` runs in the guard row's transaction. */
  try(
    key: TccGuardKey,
    work: (db: Db) => Promise<unknown>,
    options: TccTryOptions<Db>,
  ): Promise<TccTryOutcome>;
  /** Confirms a TRIED row with `work`; a lapsed one is cancelled now with `cancel`. */
  confirm(
    key: TccGuardKey,
    work: (db: Db, tried: TccStoredTry) => Promise<unknown>,
    cancel: TccCancelWork<Db>,
  ): Promise<TccConfirmOutcome>;
  /** Cancels a TRIED or TRYING row with `work`; records an empty rollback when there is no row. */
  cancel(
    key: TccGuardKey,
    work: TccCancelWork<Db>,
    options: { readonly resource: string; readonly payload: unknown },
  ): Promise<TccCancelOutcome>;
  /**
   * Registers the cancel of a resource for {@link TccGuard.expireReservations}; returns the
   * unregistration. @throws {ConfigError} when the resource is registered already.
   */
  register(resource: string, cancel: TccCancelWork<Db>): () => void;
  /** Cancels the TRIED rows of registered resources that lapsed at `now`, in batches; returns how many. */
  expireReservations(now?: number, options?: { readonly batchSize?: number }): Promise<number>;
  /** Deletes finished rows past their TTL in batches of small DELETEs; returns how many. */
  cleanup(options?: TccCleanupOptions): Promise<number>;
}

/** Rolls a store transaction back without an error: the try lost its row to a cancel. */
class Overtaken {
  constructor(readonly row: TccGuardRow | undefined) {}
}

const storedTry = (row: TccGuardRow): TccStoredTry => ({
  payload: row.payload,
  result: row.result,
  expiresAt: row.expiresAt,
});

const isCancelled = (status: TccGuardStatus) =>
  status === TccGuardStatus.Cancelled || status === TccGuardStatus.Suspended;

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ConfigError(field, `must be a positive integer, not ${value}.`);
  return value;
}

/** Creates a guard over a store. */
export function createTccGuard<Db>(options: TccGuardOptions<Db>): TccGuard<Db> {
  rejectUnknownKeys('', options, tccGuardOptionKeys);
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const logger = safeLogger(options.logger).child({ guard: store.name });
  const cancels = new Map<string, TccCancelWork<Db>>();

  /** Answers a try that found its row. TRYING is not answered here. */
  const existingTry = (row: TccGuardRow): TccTryOutcome =>
    isCancelled(row.status)
      ? { outcome: 'refused', status: row.status }
      : { outcome: 'tried', duplicate: true, result: row.result, expiresAt: row.expiresAt };

  /** Runs the try of a TRYING row and moves it to TRIED, or undoes it when a cancel overtook it. */
  const finishIntent = async (
    key: TccGuardKey,
    work: (db: Db) => Promise<unknown>,
    options: TccTryOptions<Db>,
  ): Promise<TccTryOutcome> => {
    try {
      return await store.transaction(key, async (tx) => {
        const result = (await work(tx.db)) ?? null;
        const done = await tx.update({
          from: [TccGuardStatus.Trying],
          to: TccGuardStatus.Tried,
          now: clock(),
          result,
        });
        if (done === undefined) throw new Overtaken(await tx.get());
        return { outcome: 'tried', duplicate: false, result, expiresAt: done.expiresAt } as const;
      });
    } catch (error) {
      if (!(error instanceof Overtaken)) throw error;
      const row = error.row;
      if (row === undefined) throw new Error(`The guard row of ${key.transaction}/${key.branch} vanished.`);
      if (!isCancelled(row.status)) return existingTry(row);
      // A cancel ran while the try did: undo what the try did outside the database, then refuse.
      logger.warn('A cancel overtook an intent-first try; undoing the try.', { ...key });
      await store.transaction(key, (tx) => options.cancel(tx.db, storedTry(row), key));
      return { outcome: 'refused', status: row.status };
    }
  };

  /** Cancels a TRIED row that lapsed, inside `tx`. */
  const cancelLapsed = async (
    tx: TccGuardTransaction<Db>,
    key: TccGuardKey,
    cancel: TccCancelWork<Db>,
    at: number,
  ) => {
    const row = await tx.update({
      from: [TccGuardStatus.Tried],
      to: TccGuardStatus.Cancelled,
      now: clock(),
      expiredAt: at,
    });
    if (row !== undefined) await cancel(tx.db, storedTry(row), key);
    return row !== undefined;
  };

  const guard: TccGuard<Db> = {
    store,
    now: clock,

    async try(key, work, options) {
      const insert = {
        resource: options.resource,
        payload: options.payload,
        expiresAt: options.expiresAt,
        now: clock(),
      };
      if (options.intentFirst === true) {
        const row = await store.transaction(key, async (tx) =>
          (await tx.insert({ ...insert, status: TccGuardStatus.Trying })) ? undefined : await tx.get(),
        );
        return row === undefined || row.status === TccGuardStatus.Trying
          ? finishIntent(key, work, options)
          : existingTry(row);
      }
      const first = await store.transaction(
        key,
        async (tx): Promise<TccTryOutcome | TccGuardRow | undefined> => {
          if (!(await tx.insert({ ...insert, status: TccGuardStatus.Tried }))) return tx.get();
          const result = (await work(tx.db)) ?? null;
          await tx.update({ from: [TccGuardStatus.Tried], to: TccGuardStatus.Tried, now: clock(), result });
          return { outcome: 'tried', duplicate: false, result, expiresAt: options.expiresAt };
        },
      );
      if (first === undefined) throw new Error(`The guard row of ${key.transaction}/${key.branch} vanished.`);
      if ('outcome' in first) return first;
      // An intent-first try that failed earlier: run it again.
      return first.status === TccGuardStatus.Trying ? finishIntent(key, work, options) : existingTry(first);
    },

    async confirm(key, work, cancel) {
      return store.transaction(key, async (tx): Promise<TccConfirmOutcome> => {
        const now = clock();
        const row = await tx.update({
          from: [TccGuardStatus.Tried],
          to: TccGuardStatus.Confirmed,
          now,
          notExpiredAt: now,
        });
        if (row !== undefined)
          return { outcome: 'confirmed', duplicate: false, result: await work(tx.db, storedTry(row)) };
        const existing = await tx.get();
        if (existing === undefined) return { outcome: 'not-tried' };
        switch (existing.status) {
          case TccGuardStatus.Confirmed:
            return { outcome: 'confirmed', duplicate: true, result: undefined };
          case TccGuardStatus.Trying:
            return { outcome: 'in-progress' };
          case TccGuardStatus.Tried:
            // Lapsed: cancel it now, and tell the coordinator it was cancelled.
            logger.warn('A confirm came after the reservation lapsed; cancelling it.', { ...key });
            await cancelLapsed(tx, key, cancel, now);
            return { outcome: 'cancelled', expired: true };
          default:
            return { outcome: 'cancelled', expired: false };
        }
      });
    },

    async cancel(key, work, options) {
      return store.transaction(key, async (tx): Promise<TccCancelOutcome> => {
        const now = clock();
        const inserted = await tx.insert({
          resource: options.resource,
          status: TccGuardStatus.Suspended,
          payload: options.payload,
          expiresAt: undefined,
          now,
        });
        if (inserted) {
          logger.info('Empty rollback: a cancel before any try; a later try will be refused.', { ...key });
          return { outcome: 'cancelled', duplicate: false, empty: true };
        }
        const row = await tx.update({
          from: [TccGuardStatus.Tried, TccGuardStatus.Trying],
          to: TccGuardStatus.Cancelled,
          now,
        });
        if (row !== undefined) {
          await work(tx.db, storedTry(row), key);
          return { outcome: 'cancelled', duplicate: false, empty: false };
        }
        const existing = await tx.get();
        if (existing === undefined)
          throw new Error(`The guard row of ${key.transaction}/${key.branch} vanished.`);
        if (existing.status === TccGuardStatus.Confirmed) {
          logger.error(
            'A cancel came after the confirm: refused. The coordinator sees a heuristic outcome.',
            {
              ...key,
            },
          );
          return { outcome: 'refused', status: existing.status };
        }
        return { outcome: 'cancelled', duplicate: true, empty: existing.status === TccGuardStatus.Suspended };
      });
    },

    register(resource, cancel) {
      if (cancels.has(resource)) {
        throw new ConfigError(
          'resource',
          `the resource ${JSON.stringify(resource)} is registered twice on one guard; give each TCC handler its own resource.`,
        );
      }
      cancels.set(resource, cancel);
      return () => {
        if (cancels.get(resource) === cancel) cancels.delete(resource);
      };
    },

    async expireReservations(now = clock(), options = {}) {
      const batchSize = positiveInteger('batchSize', options.batchSize ?? 100);
      const failed = new Set<string>();
      let expired = 0;
      for (;;) {
        const resources = [...cancels.keys()];
        if (resources.length === 0) return expired;
        const keys = await store.expired(now, resources, batchSize + failed.size);
        let progress = false;
        for (const key of keys) {
          const id = JSON.stringify([key.transaction, key.branch]);
          if (failed.has(id)) continue;
          try {
            const done = await store.transaction(key, async (tx) => {
              const row = await tx.get();
              const cancel = row === undefined ? undefined : cancels.get(row.resource);
              return cancel === undefined ? false : cancelLapsed(tx, key, cancel, now);
            });
            if (done) expired += 1;
            progress = true;
          } catch (error) {
            failed.add(id);
            logger.error('Could not cancel a lapsed reservation; the next sweep tries again.', {
              ...key,
              error,
            });
          }
        }
        if (!progress || keys.length < batchSize + failed.size) return expired;
      }
    },

    async cleanup(cleanupOptions = {}) {
      const olderThanMs = positiveInteger('olderThanMs', cleanupOptions.olderThanMs ?? 86_400_000);
      const suspendedOlderThanMs = positiveInteger(
        'suspendedOlderThanMs',
        cleanupOptions.suspendedOlderThanMs ?? Math.max(olderThanMs, 604_800_000),
      );
      if (suspendedOlderThanMs < olderThanMs) {
        throw new ConfigError(
          'suspendedOlderThanMs',
          `must be at least olderThanMs (${olderThanMs}): empty rollbacks must outlive the longest try delay, not ${suspendedOlderThanMs}.`,
        );
      }
      const batchSize = positiveInteger('batchSize', cleanupOptions.batchSize ?? 500);
      const now = cleanupOptions.now ?? clock();
      let deleted = 0;
      const sweep = async (statuses: readonly TccGuardStatus[], before: number) => {
        for (;;) {
          const batch = await store.deleteBatch(statuses, before, batchSize);
          deleted += batch;
          if (batch < batchSize) return;
        }
      };
      await sweep([TccGuardStatus.Confirmed, TccGuardStatus.Cancelled], now - olderThanMs);
      await sweep([TccGuardStatus.Suspended], now - suspendedOlderThanMs);
      return deleted;
    },
  };
  return guard;
}
