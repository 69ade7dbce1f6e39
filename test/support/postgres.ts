// PostgreSQL for integration tests: the machine's server (127.0.0.1:5432, user postgres, database
// test), and a schema of its own per test file, dropped afterwards.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

type Pool = pg.Pool;

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
