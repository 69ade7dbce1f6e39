// PostgreSQL for integration tests: the machine's server (127.0.0.1:5432, user postgres, database
// test), and a schema of its own per test file, dropped afterwards.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type pgModule from 'pg';

// Vitest starts its workers with `--conditions import` (vitest.config.ts lists `import` among the
// SSR external conditions), so Node resolves pg's `require('pg-pool')` to pg-pool's ES module
// build, and pg's `class BoundPool extends Pool` fails on the module namespace. Until the config
// drops `import` there (Node adds `import` and `require` by itself), point that one resolution at
// pg-pool's CommonJS build.
const require = createRequire(import.meta.url);
const poolEsm = require.resolve('pg-pool');
if (poolEsm.endsWith('.mjs')) {
  const poolCjs = require.resolve(poolEsm.replace(/esm[/\\]index\.mjs$/, 'index.js'));
  require(poolCjs);
  require.cache[poolEsm] = require.cache[poolCjs];
}
const pg = require('pg') as typeof pgModule;
type Pool = pgModule.Pool;

/** A pool on the test database. */
export function testPool(max = 10): Pool {
  return new pg.Pool({
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    database: process.env.PGDATABASE ?? 'test',
    max,
  });
}

/** A fresh schema name, `tcc_<12 hex>`. */
export function uniqueSchema(prefix = 'tcc'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** Drops a schema made by a test. */
export async function dropSchema(pool: Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
