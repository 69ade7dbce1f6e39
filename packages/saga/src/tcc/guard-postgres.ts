/**
 * The PostgreSQL TCC guard store, over a `pg.Pool` you supply (`pg` is an optional peer
 * dependency). Each guarded phase is one transaction on one pooled client — `BEGIN`, the guard
 * row's atomic statement, your work through the same client, `COMMIT` — so the guard row commits
 * or rolls back with your work. Statements are `INSERT ... ON CONFLICT DO NOTHING RETURNING` and
 * `UPDATE ... WHERE status = ANY(...) RETURNING` at READ COMMITTED: a concurrent phase on the same
 * row waits on the row (or its unique-index entry) and then sees the committed status; there is
 * no `SELECT ... FOR UPDATE` followed by an insert, whose gap locks deadlock concurrent rollback
 * retries (apache/incubator-seata #6679, #6383).
 *
 * The table (`ensureSchema()` creates it):
 * ```sql
 * CREATE TABLE "<schema>"."<table>" (
 *   transaction_id text NOT NULL, branch_id text NOT NULL, resource text NOT NULL,
 *   status text NOT NULL,             -- TRYING, TRIED, CONFIRMED, CANCELLED, SUSPENDED
 *   payload jsonb, result jsonb,      -- the try's payload and result
 *   expires_at bigint,                -- epoch ms
 *   created_at bigint NOT NULL, updated_at bigint NOT NULL,  -- epoch ms
 *   PRIMARY KEY (transaction_id, branch_id));
 * ```
 * @module
 */

import { ConfigError, rejectUnknownKeys } from '@cascade/core';
import type {
  TccGuardKey,
  TccGuardRow,
  TccGuardStatus,
  TccGuardStore,
  TccGuardTransaction,
} from './guard-store.js';
import { postgresGuardStoreOptionKeys } from './options.js';

/** A query's answer, as `pg` gives it. */
export interface PgQueryResult {
  readonly rows: readonly unknown[];
  readonly rowCount: number | null;
}

/**
 * What the store needs of a `pg.PoolClient`. Declared here, so the saga's declarations name no
 * type of `pg` (a service without PostgreSQL needs no `@types/pg`); a `pg.PoolClient` is one.
 */
export interface PgPoolClient {
  query(text: string, values?: readonly unknown[]): Promise<PgQueryResult>;
  release(error?: Error | boolean): void;
}

/** What the store needs of a `pg.Pool` (a `pg.Pool` is one). `Client` is its clients' type. */
export interface PgPool<Client extends PgPoolClient = PgPoolClient> {
  connect(): Promise<Client>;
  query(text: string, values?: readonly unknown[]): Promise<PgQueryResult>;
}

/** Options of {@link postgresGuardStore}. */
export interface PostgresGuardStoreOptions<Client extends PgPoolClient = PgPoolClient> {
  /** Your pool (a `pg.Pool`); the store never ends it. */
  readonly pool: PgPool<Client>;
  /** A plain identifier (letters, digits, `_`). @default 'public' */
  readonly schema?: string;
  /** A plain identifier (letters, digits, `_`; at most 48 characters). @default 'cascade_tcc_guard' */
  readonly table?: string;
}

/** A PostgreSQL guard store; its transaction handle is the `pg.PoolClient` of the transaction. */
export interface PostgresGuardStore<Client extends PgPoolClient = PgPoolClient>
  extends TccGuardStore<Client> {
  /** The quoted, qualified table name. */
  readonly table: string;
  /** Creates the schema, the table and its indexes if missing. Idempotent and safe to race. */
  ensureSchema(): Promise<void>;
}

function identifier(field: string, value: string, maxLength: number): string {
  if (!new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${maxLength - 1}}$`).test(value)) {
    throw new ConfigError(
      field,
      `must be a plain SQL identifier (a letter or _, then letters, digits or _, at most ${maxLength} characters), not ${JSON.stringify(value)}.`,
    );
  }
  return `"${value}"`;
}

interface Row {
  transaction_id: string;
  branch_id: string;
  resource: string;
  status: TccGuardStatus;
  payload: unknown;
  result: unknown;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

const fromRow = (row: Row): TccGuardRow => ({
  transaction: row.transaction_id,
  branch: row.branch_id,
  resource: row.resource,
  status: row.status,
  payload: row.payload ?? undefined,
  result: row.result ?? undefined,
  expiresAt: row.expires_at === null ? undefined : Number(row.expires_at),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
});

/** JSON for a jsonb parameter; `undefined` is SQL NULL. */
const jsonb = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** Creates a PostgreSQL guard store. @throws {ConfigError} for a schema or table that is not a plain identifier. */
export function postgresGuardStore<Client extends PgPoolClient = PgPoolClient>(
  options: PostgresGuardStoreOptions<Client>,
): PostgresGuardStore<Client> {
  rejectUnknownKeys('', options, postgresGuardStoreOptionKeys);
  const { pool } = options;
  const schemaName = options.schema ?? 'public';
  const tableName = options.table ?? 'cascade_tcc_guard';
  const schema = identifier('schema', schemaName, 63);
  const table = `${schema}.${identifier('table', tableName, 48)}`;
  const columns =
    'transaction_id, branch_id, resource, status, payload, result, expires_at, created_at, updated_at';

  const transaction = async <T>(key: TccGuardKey, work: (tx: TccGuardTransaction<Client>) => Promise<T>) => {
    const client = await pool.connect();
    const where = 'transaction_id = $1 AND branch_id = $2';
    const tx: TccGuardTransaction<Client> = {
      db: client,
      async insert(row) {
        const inserted = await client.query(
          `INSERT INTO ${table} (${columns}) VALUES ($1, $2, $3, $4, $5::jsonb, NULL, $6, $7, $7)
           ON CONFLICT (transaction_id, branch_id) DO NOTHING RETURNING status`,
          [
            key.transaction,
            key.branch,
            row.resource,
            row.status,
            jsonb(row.payload),
            row.expiresAt ?? null,
            row.now,
          ],
        );
        return inserted.rowCount === 1;
      },
      async update(update) {
        const values: unknown[] = [key.transaction, key.branch, update.from, update.to, update.now];
        const set = ['status = $4', 'updated_at = $5'];
        const conditions = [where, 'status = ANY($3::text[])'];
        if ('result' in update) {
          values.push(jsonb(update.result));
          set.push(`result = $${values.length}::jsonb`);
        }
        if (update.notExpiredAt !== undefined) {
          values.push(update.notExpiredAt);
          conditions.push(`(expires_at IS NULL OR expires_at > $${values.length})`);
        }
        if (update.expiredAt !== undefined) {
          values.push(update.expiredAt);
          conditions.push(`expires_at <= $${values.length}`);
        }
        const updated = await client.query(
          `UPDATE ${table} SET ${set.join(', ')} WHERE ${conditions.join(' AND ')} RETURNING ${columns}`,
          values,
        );
        const row = updated.rows[0] as Row | undefined;
        return row === undefined ? undefined : fromRow(row);
      },
      async get() {
        const found = await client.query(`SELECT ${columns} FROM ${table} WHERE ${where}`, [
          key.transaction,
          key.branch,
        ]);
        const row = found.rows[0] as Row | undefined;
        return row === undefined ? undefined : fromRow(row);
      },
    };
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await work(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      throw error;
    } finally {
      // A client whose rollback failed is in an unknown state: destroy it, not back in the pool.
      client.release(broken === undefined ? undefined : (broken as Error));
    }
  };

  return {
    name: `postgres ${table}`,
    table,
    transaction,
    async ensureSchema() {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog: serialize them.
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('cascade.tcc.guard'))`);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
          transaction_id text NOT NULL,
          branch_id text NOT NULL,
          resource text NOT NULL,
          status text NOT NULL CHECK (status IN ('TRYING', 'TRIED', 'CONFIRMED', 'CANCELLED', 'SUSPENDED')),
          payload jsonb,
          result jsonb,
          expires_at bigint,
          created_at bigint NOT NULL,
          updated_at bigint NOT NULL,
          PRIMARY KEY (transaction_id, branch_id)
        )`);
        await client.query(
          `CREATE INDEX IF NOT EXISTS "${tableName}_expiry" ON ${table} (status, expires_at)`,
        );
        await client.query(
          `CREATE INDEX IF NOT EXISTS "${tableName}_updated" ON ${table} (status, updated_at)`,
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async expired(now, resources, limit) {
      const found = await pool.query(
        `SELECT transaction_id, branch_id FROM ${table}
         WHERE status = 'TRIED' AND expires_at <= $1 AND resource = ANY($2::text[])
         ORDER BY expires_at LIMIT $3`,
        [now, resources, limit],
      );
      return (found.rows as readonly { transaction_id: string; branch_id: string }[]).map((row) => ({
        transaction: row.transaction_id,
        branch: row.branch_id,
      }));
    },
    async deleteBatch(statuses, before, limit) {
      // One small DELETE by primary key; rows another transaction holds are left for the next batch.
      const deleted = await pool.query(
        `DELETE FROM ${table} WHERE (transaction_id, branch_id) IN (
           SELECT transaction_id, branch_id FROM ${table}
           WHERE status = ANY($1::text[]) AND updated_at < $2
           LIMIT $3 FOR UPDATE SKIP LOCKED)`,
        [statuses, before, limit],
      );
      return deleted.rowCount ?? 0;
    },
  };
}
