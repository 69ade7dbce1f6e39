// The TCC guard's rule table, run against each guard store: the memory store in the unit tests
// (packages/saga/src/tcc/guard.test.ts) and PostgreSQL in test/tcc/guard-postgres.test.ts.
import { ConfigError } from '@cascade/core';
import {
  createTccGuard,
  type TccGuard,
  type TccGuardKey,
  TccGuardStatus,
  type TccGuardStore,
  type TccStoredTry,
} from '@cascade/saga';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** A store for one test, and how to drop it. */
export interface GuardStoreFixture<Db> {
  readonly store: TccGuardStore<Db>;
  close(): Promise<void>;
}

/** A hand-driven clock. */
export interface ManualClock {
  now: number;
}

/** A guard over a fresh store, a manual clock, and a log of the user work that ran. */
export interface GuardHarness<Db> {
  readonly guard: TccGuard<Db>;
  readonly clock: ManualClock;
  readonly ran: string[];
  key(branch?: string): TccGuardKey;
  /** Tries `key` with a work that logs `try <branch>` and returns `{ held: <branch> }`. */
  tryKey(
    key: TccGuardKey,
    options?: { intentFirst?: boolean; work?: (db: Db) => Promise<unknown>; ttlMs?: number },
  ): ReturnType<TccGuard<Db>['try']>;
  confirmKey(
    key: TccGuardKey,
    work?: (db: Db, tried: TccStoredTry) => Promise<unknown>,
  ): ReturnType<TccGuard<Db>['confirm']>;
  cancelKey(
    key: TccGuardKey,
    work?: (db: Db, tried: TccStoredTry) => Promise<unknown>,
  ): ReturnType<TccGuard<Db>['cancel']>;
  status(key: TccGuardKey): Promise<TccGuardStatus | undefined>;
}

let keys = 0;

export function guardHarness<Db>(store: TccGuardStore<Db>): GuardHarness<Db> {
  const clock: ManualClock = { now: 1_000_000 };
  const ran: string[] = [];
  const guard = createTccGuard({ store, clock: () => clock.now });
  const logCancel = async (_db: Db, tried: TccStoredTry, key: TccGuardKey) => {
    ran.push(`cancel ${key.branch} ${JSON.stringify(tried.result)}`);
  };
  return {
    guard,
    clock,
    ran,
    key: (branch = 'reserve') => ({ transaction: `saga-${process.pid}-${Date.now()}-${++keys}`, branch }),
    tryKey: (key, options = {}) =>
      guard.try(
        key,
        options.work ??
          (async () => {
            ran.push(`try ${key.branch}`);
            return { held: key.branch };
          }),
        {
          resource: 'seats',
          payload: { seat: key.branch },
          expiresAt: clock.now + (options.ttlMs ?? 60_000),
          ...(options.intentFirst === undefined ? {} : { intentFirst: options.intentFirst }),
          cancel: logCancel,
        },
      ),
    confirmKey: (key, work) =>
      guard.confirm(
        key,
        work ??
          (async (_db, tried) => {
            ran.push(`confirm ${key.branch} ${JSON.stringify(tried.result)}`);
          }),
        logCancel,
      ),
    cancelKey: (key, work) =>
      guard.cancel(key, work ?? ((db, tried) => logCancel(db, tried, key)), {
        resource: 'seats',
        payload: { seat: key.branch },
      }),
    status: async (key) => (await store.transaction(key, (tx) => tx.get()))?.status,
  };
}

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The rule table, against the stores `open()` makes (one per test). */
export function guardRules<Db>(
  open: () => Promise<GuardStoreFixture<Db>>,
  options: { concurrency: number },
): void {
  let fixture: GuardStoreFixture<Db>;
  let h: GuardHarness<Db>;
  beforeEach(async () => {
    fixture = await open();
    h = guardHarness(fixture.store);
  });
  afterEach(async () => {
    await fixture.close();
  });

  describe('try', () => {
    it('runs the try once and answers a duplicate with the stored result and expiry', async () => {
      const key = h.key();
      const first = await h.tryKey(key);
      h.clock.now += 10;
      const second = await h.tryKey(key);
      expect(first).toEqual({
        outcome: 'tried',
        duplicate: false,
        result: { held: 'reserve' },
        expiresAt: 1_060_000,
      });
      expect(second).toEqual({
        outcome: 'tried',
        duplicate: true,
        result: { held: 'reserve' },
        expiresAt: 1_060_000,
      });
      expect(h.ran).toEqual(['try reserve']);
      expect(await h.status(key)).toBe(TccGuardStatus.Tried);
    });

    it('answers a try after the confirm with the stored result, without running it', async () => {
      const key = h.key();
      await h.tryKey(key);
      await h.confirmKey(key);
      expect(await h.tryKey(key)).toMatchObject({
        outcome: 'tried',
        duplicate: true,
        result: { held: 'reserve' },
      });
      expect(h.ran).toEqual(['try reserve', 'confirm reserve {"held":"reserve"}']);
    });

    it('refuses a hanging try: after an empty rollback, and after a cancel', async () => {
      const hanging = h.key('hanging');
      await h.cancelKey(hanging);
      expect(await h.tryKey(hanging)).toEqual({ outcome: 'refused', status: TccGuardStatus.Suspended });
      const cancelled = h.key('cancelled');
      await h.tryKey(cancelled);
      await h.cancelKey(cancelled);
      expect(await h.tryKey(cancelled)).toEqual({ outcome: 'refused', status: TccGuardStatus.Cancelled });
      expect(h.ran).toEqual(['try cancelled', 'cancel cancelled {"held":"cancelled"}']);
    });

    it('rolls the guard row back with a try that throws, so the try can run again', async () => {
      const key = h.key();
      const failing = h.tryKey(key, {
        work: async () => {
          throw new Error('the seat map is down');
        },
      });
      await expect(failing).rejects.toThrow('the seat map is down');
      expect(await h.status(key)).toBeUndefined();
      expect(await h.tryKey(key)).toMatchObject({ outcome: 'tried', duplicate: false });
    });

    it('runs concurrent duplicate tries once', async () => {
      const key = h.key();
      const outcomes = await Promise.all(Array.from({ length: options.concurrency }, () => h.tryKey(key)));
      expect(h.ran).toEqual(['try reserve']);
      expect(outcomes.filter((o) => o.outcome === 'tried' && !o.duplicate)).toHaveLength(1);
      expect(
        outcomes.every((o) => o.outcome === 'tried' && (o.result as { held: string }).held === 'reserve'),
      ).toBe(true);
    });
  });

  describe('confirm', () => {
    it('confirms a tried reservation once, with the try result, and answers a duplicate', async () => {
      const key = h.key();
      await h.tryKey(key);
      expect(await h.confirmKey(key)).toEqual({ outcome: 'confirmed', duplicate: false, result: undefined });
      expect(await h.confirmKey(key)).toEqual({ outcome: 'confirmed', duplicate: true, result: undefined });
      expect(h.ran).toEqual(['try reserve', 'confirm reserve {"held":"reserve"}']);
      expect(await h.status(key)).toBe(TccGuardStatus.Confirmed);
    });

    it('answers not-tried when there is no try, and cancelled after a cancel or an empty rollback', async () => {
      const none = h.key();
      expect(await h.confirmKey(none)).toEqual({ outcome: 'not-tried' });
      expect(await h.status(none)).toBeUndefined();
      const cancelled = h.key();
      await h.tryKey(cancelled);
      await h.cancelKey(cancelled);
      expect(await h.confirmKey(cancelled)).toEqual({ outcome: 'cancelled', expired: false });
      const empty = h.key();
      await h.cancelKey(empty);
      expect(await h.confirmKey(empty)).toEqual({ outcome: 'cancelled', expired: false });
    });

    it('cancels a lapsed reservation instead of confirming it', async () => {
      const key = h.key();
      await h.tryKey(key, { ttlMs: 1_000 });
      h.clock.now += 1_000;
      expect(await h.confirmKey(key)).toEqual({ outcome: 'cancelled', expired: true });
      expect(h.ran).toEqual(['try reserve', 'cancel reserve {"held":"reserve"}']);
      expect(await h.status(key)).toBe(TccGuardStatus.Cancelled);
      expect(await h.cancelKey(key)).toEqual({ outcome: 'cancelled', duplicate: true, empty: false });
    });

    it('keeps the reservation tried when the confirm work throws, so a retry confirms', async () => {
      const key = h.key();
      await h.tryKey(key);
      await expect(
        h.confirmKey(key, async () => {
          throw new Error('ledger unavailable');
        }),
      ).rejects.toThrow('ledger unavailable');
      expect(await h.status(key)).toBe(TccGuardStatus.Tried);
      expect(await h.confirmKey(key)).toMatchObject({ outcome: 'confirmed', duplicate: false });
    });
  });

  describe('cancel', () => {
    it('records an empty rollback without running the cancel, and answers its retry', async () => {
      const key = h.key();
      expect(await h.cancelKey(key)).toEqual({ outcome: 'cancelled', duplicate: false, empty: true });
      expect(await h.cancelKey(key)).toEqual({ outcome: 'cancelled', duplicate: true, empty: true });
      expect(h.ran).toEqual([]);
      expect(await h.status(key)).toBe(TccGuardStatus.Suspended);
    });

    it('cancels a tried reservation once, with the stored try', async () => {
      const key = h.key();
      await h.tryKey(key);
      expect(await h.cancelKey(key)).toEqual({ outcome: 'cancelled', duplicate: false, empty: false });
      expect(await h.cancelKey(key)).toEqual({ outcome: 'cancelled', duplicate: true, empty: false });
      expect(h.ran).toEqual(['try reserve', 'cancel reserve {"held":"reserve"}']);
    });

    it('refuses to cancel a confirmed reservation', async () => {
      const key = h.key();
      await h.tryKey(key);
      await h.confirmKey(key);
      expect(await h.cancelKey(key)).toEqual({ outcome: 'refused', status: TccGuardStatus.Confirmed });
      expect(await h.status(key)).toBe(TccGuardStatus.Confirmed);
    });

    it('keeps the reservation tried when the cancel work throws, so a retry cancels', async () => {
      const key = h.key();
      await h.tryKey(key);
      await expect(
        h.cancelKey(key, async () => {
          throw new Error('inventory unavailable');
        }),
      ).rejects.toThrow('inventory unavailable');
      expect(await h.status(key)).toBe(TccGuardStatus.Tried);
      expect(await h.cancelKey(key)).toMatchObject({ outcome: 'cancelled', duplicate: false });
    });

    it('runs the cancel once under concurrent cancel retries, with tries racing them', async () => {
      const tried = h.key('tried');
      await h.tryKey(tried);
      const racing = h.key('racing');
      const calls = await Promise.all(
        Array.from({ length: options.concurrency }, (_, i) =>
          i % 2 === 0
            ? Promise.all([h.cancelKey(tried), h.cancelKey(racing)])
            : Promise.all([h.tryKey(racing)]),
        ),
      );
      expect(h.ran.filter((entry) => entry.startsWith('cancel tried'))).toHaveLength(1);
      expect(await h.status(tried)).toBe(TccGuardStatus.Cancelled);
      // The racing key is cancelled one way or the other: an empty rollback refuses every later
      // try; a try first is then cancelled once.
      const racingStatus = await h.status(racing);
      expect([TccGuardStatus.Suspended, TccGuardStatus.Cancelled]).toContain(racingStatus);
      const racingTries = h.ran.filter((entry) => entry === 'try racing').length;
      const racingCancels = h.ran.filter((entry) => entry.startsWith('cancel racing')).length;
      expect(racingTries).toBeLessThanOrEqual(1);
      expect(racingCancels).toBe(racingTries);
      expect(
        calls.flat().every((o) => o.outcome !== 'refused' || o.status !== TccGuardStatus.Confirmed),
      ).toBe(true);
    });
  });

  describe('record-intent-first', () => {
    it('leaves TRYING after a failed try, so its cancel still runs and a later try is refused', async () => {
      const key = h.key();
      const failing = h.tryKey(key, {
        intentFirst: true,
        work: async () => {
          h.ran.push('charged the card, then failed');
          throw new Error('timeout');
        },
      });
      await expect(failing).rejects.toThrow('timeout');
      expect(await h.status(key)).toBe(TccGuardStatus.Trying);
      expect(await h.confirmKey(key)).toEqual({ outcome: 'in-progress' });
      expect(await h.cancelKey(key)).toEqual({ outcome: 'cancelled', duplicate: false, empty: false });
      expect(h.ran).toEqual(['charged the card, then failed', 'cancel reserve undefined']);
      expect(await h.tryKey(key, { intentFirst: true })).toEqual({
        outcome: 'refused',
        status: TccGuardStatus.Cancelled,
      });
    });

    it('runs a failed intent-first try again on retry', async () => {
      const key = h.key();
      await expect(
        h.tryKey(key, {
          intentFirst: true,
          work: async () => {
            throw new Error('timeout');
          },
        }),
      ).rejects.toThrow('timeout');
      expect(await h.tryKey(key, { intentFirst: true })).toMatchObject({
        outcome: 'tried',
        duplicate: false,
      });
      expect(await h.tryKey(key, { intentFirst: true })).toMatchObject({ outcome: 'tried', duplicate: true });
      expect(await h.status(key)).toBe(TccGuardStatus.Tried);
    });

    it('undoes a try that a cancel overtook, and refuses it', async () => {
      const key = h.key();
      const started = deferred();
      const proceed = deferred();
      const trying = h.tryKey(key, {
        intentFirst: true,
        work: async () => {
          started.resolve();
          await proceed.promise;
          h.ran.push('try reserve');
          return { held: 'reserve' };
        },
      });
      await started.promise;
      expect(await h.cancelKey(key)).toEqual({ outcome: 'cancelled', duplicate: false, empty: false });
      proceed.resolve();
      expect(await trying).toEqual({ outcome: 'refused', status: TccGuardStatus.Cancelled });
      expect(h.ran).toEqual(['cancel reserve undefined', 'try reserve', 'cancel reserve undefined']);
      expect(await h.status(key)).toBe(TccGuardStatus.Cancelled);
    });
  });

  describe('expiry sweep and cleanup', () => {
    it('cancels lapsed reservations of registered resources in batches, leaving the rest', async () => {
      const lapsed = Array.from({ length: 5 }, (_, i) => h.key(`lapsed-${i}`));
      for (const key of lapsed) await h.tryKey(key, { ttlMs: 1_000 });
      const fresh = h.key('fresh');
      await h.tryKey(fresh, { ttlMs: 60_000 });
      const confirmed = h.key('confirmed');
      await h.tryKey(confirmed, { ttlMs: 1_000 });
      await h.confirmKey(confirmed);
      h.ran.length = 0;
      h.clock.now += 1_000;

      expect(await h.guard.expireReservations()).toBe(0); // nothing registered for 'seats' yet
      const swept: string[] = [];
      const unregister = h.guard.register('seats', async (_db, tried, key) => {
        swept.push(`${key.branch} ${JSON.stringify(tried.result)}`);
      });
      expect(() => h.guard.register('seats', async () => {})).toThrowError(ConfigError);
      expect(await h.guard.expireReservations(h.clock.now, { batchSize: 2 })).toBe(5);
      unregister();
      expect(swept.sort()).toEqual(lapsed.map((key) => `${key.branch} {"held":"${key.branch}"}`));
      for (const key of lapsed) expect(await h.status(key)).toBe(TccGuardStatus.Cancelled);
      expect(await h.status(fresh)).toBe(TccGuardStatus.Tried);
      expect(await h.status(confirmed)).toBe(TccGuardStatus.Confirmed);
    });

    it('deletes finished rows past their TTL in batches, keeping empty rollbacks longer', async () => {
      const confirmed = Array.from({ length: 5 }, (_, i) => h.key(`confirmed-${i}`));
      for (const key of confirmed) {
        await h.tryKey(key);
        await h.confirmKey(key);
      }
      const cancelled = h.key('cancelled');
      await h.tryKey(cancelled);
      await h.cancelKey(cancelled);
      const suspended = h.key('suspended');
      await h.cancelKey(suspended);
      const open = h.key('open');
      await h.tryKey(open);
      h.clock.now += 10_000;
      const young = h.key('young');
      await h.tryKey(young);
      await h.confirmKey(young);

      expect(await h.guard.cleanup({ olderThanMs: 5_000, suspendedOlderThanMs: 20_000, batchSize: 2 })).toBe(
        6,
      );
      for (const key of [...confirmed, cancelled]) expect(await h.status(key)).toBeUndefined();
      expect(await h.status(suspended)).toBe(TccGuardStatus.Suspended);
      expect(await h.status(open)).toBe(TccGuardStatus.Tried);
      expect(await h.status(young)).toBe(TccGuardStatus.Confirmed);

      h.clock.now += 10_001;
      expect(await h.guard.cleanup({ olderThanMs: 5_000, suspendedOlderThanMs: 20_000 })).toBe(2);
      expect(await h.status(suspended)).toBeUndefined();
      // The hanging try protection is gone with it: that is why suspended rows live longer.
      expect(await h.status(open)).toBe(TccGuardStatus.Tried);
    });

    it('refuses a suspended TTL shorter than the TTL of finished rows', async () => {
      await expect(
        h.guard.cleanup({ olderThanMs: 10_000, suspendedOlderThanMs: 5_000 }),
      ).rejects.toThrowError(ConfigError);
      await expect(h.guard.cleanup({ olderThanMs: 0 })).rejects.toThrow('Invalid option olderThanMs');
    });
  });
}
