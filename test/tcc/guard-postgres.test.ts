// The TCC guard on PostgreSQL: the memory store's rule table, then what only a database shows —
// the guard row rolls back with the participant's own writes, concurrent rollback retries do not
// deadlock, and DDL identifiers are validated.
import { ConfigError } from '@cascade/core';
import { postgresGuardStore, TccGuardStatus } from '@cascade/saga';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, testPool, uniqueSchema } from '../support/postgres.js';
import { guardHarness, guardRules } from '../support/tcc-guard-rules.js';

const schema = uniqueSchema();
let pool: pg.Pool;

beforeAll(async () => {
  pool = testPool(12);
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

let tables = 0;
async function freshStore() {
  const store = postgresGuardStore<pg.PoolClient>({ pool, schema, table: `guard_${++tables}` });
  await store.ensureSchema();
  return store;
}

describe('the TCC guard on PostgreSQL', () => {
  guardRules(async () => ({ store: await freshStore(), close: async () => {} }), { concurrency: 20 });

  it('commits the guard row and the participant writes together, and rolls both back', async () => {
    const store = await freshStore();
    await pool.query(`CREATE TABLE IF NOT EXISTS "${schema}".holds (id text PRIMARY KEY)`);
    const h = guardHarness(store);
    const insertHold = (id: string, fail: boolean) => async (db: pg.PoolClient) => {
      await db.query(`INSERT INTO "${schema}".holds (id) VALUES ($1)`, [id]);
      if (fail) throw new Error('card declined after the hold was written');
      return { id };
    };
    const failed = h.key('failed');
    await expect(h.tryKey(failed, { work: insertHold('h-failed', true) })).rejects.toThrow('card declined');
    const ok = h.key('ok');
    await h.tryKey(ok, { work: insertHold('h-ok', false) });

    const holds = await pool.query<{ id: string }>(`SELECT id FROM "${schema}".holds ORDER BY id`);
    expect(holds.rows.map((row) => row.id)).toEqual(['h-ok']);
    expect(await h.status(failed)).toBeUndefined();
    expect(await h.status(ok)).toBe(TccGuardStatus.Tried);
    // The failed try left nothing: its cancel is an empty rollback that refuses a late retry.
    expect(await h.cancelKey(failed)).toEqual({ outcome: 'cancelled', duplicate: false, empty: true });
    expect(await h.tryKey(failed, { work: insertHold('h-failed', false) })).toEqual({
      outcome: 'refused',
      status: TccGuardStatus.Suspended,
    });
  });

  it('runs 20 concurrent cancels and tries on the same keys without a deadlock', async () => {
    const store = await freshStore();
    const h = guardHarness(store);
    const keys = Array.from({ length: 4 }, (_, i) => h.key(`k${i}`));
    for (const key of keys.slice(0, 2)) await h.tryKey(key);
    const deadlocks = async () =>
      Number(
        (
          await pool.query<{ deadlocks: string }>(
            'SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()',
          )
        ).rows[0]?.deadlocks,
      );
    const deadlocksBefore = await deadlocks();
    const calls = keys.flatMap((key) =>
      Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? h.tryKey(key) : h.cancelKey(key))),
    );
    const outcomes = await Promise.all(calls);
    expect(outcomes).toHaveLength(80);
    for (const key of keys) {
      expect([TccGuardStatus.Cancelled, TccGuardStatus.Suspended]).toContain(await h.status(key));
      const tries = h.ran.filter((entry) => entry === `try ${key.branch}`).length;
      expect(h.ran.filter((entry) => entry.startsWith(`cancel ${key.branch} `))).toHaveLength(tries);
    }
    // A deadlock would have rejected one of the calls; the server's counter agrees.
    expect(await deadlocks()).toBe(deadlocksBefore);
  });

  it('creates its schema idempotently, also when raced', async () => {
    const store = postgresGuardStore<pg.PoolClient>({ pool, schema, table: 'raced' });
    await Promise.all([store.ensureSchema(), store.ensureSchema(), store.ensureSchema()]);
    await store.ensureSchema();
    const indexes = await pool.query<{ indexname: string }>(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname',
      [schema, 'raced'],
    );
    expect(indexes.rows.map((row) => row.indexname)).toEqual(['raced_expiry', 'raced_pkey', 'raced_updated']);
  });

  it('refuses schema and table names that are not plain identifiers', () => {
    expect(() => postgresGuardStore<pg.PoolClient>({ pool, schema: 'x"; DROP TABLE y; --' })).toThrowError(
      ConfigError,
    );
    expect(() => postgresGuardStore({ pool, table: 'guard rows' })).toThrow('Invalid option table');
    expect(() => postgresGuardStore({ pool, table: 'a'.repeat(49) })).toThrowError(ConfigError);
  });
});
