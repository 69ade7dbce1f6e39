/**
 * The payment service: customers' balances in its own PostgreSQL schema, and payment
 * authorization as a TCC resource over HTTP (`tccHttpHandler`), guarded by the PostgreSQL guard
 * store. Each phase runs in one PostgreSQL transaction with its guard row:
 *
 * - **try** holds the amount: `held += amount` if `balance - held >= amount`, else the card is
 *   declined (a `BusinessFailure`, answered `409`: the saga cancels);
 * - **confirm** captures it: `balance -= amount, held -= amount`;
 * - **cancel** releases it: `held -= amount`.
 *
 * The guard makes each phase happen once per (saga, step), answers a cancel that came before its
 * try (and refuses that try if it arrives later), and cancels holds whose reservation lapsed.
 * @module
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@cascade/core';
import {
  BusinessFailure,
  createTccGuard,
  postgresGuardStore,
  type TccHandlers,
  tccHttpHandler,
} from '@cascade/saga';
import type pg from 'pg';
import { authorizePath, type ServiceConfig } from '../config.js';
import { type Service, schemaPool } from '../service.js';

/** What a try is asked to hold. */
export interface Authorization {
  readonly orderId: string;
  readonly customerId: string;
  readonly amountCents: number;
}

/** The try's result: the hold's id. */
export interface Hold {
  readonly holdId: string;
}

/** Creates the payment tables and seeds the balances (idempotent). */
export async function ensurePaymentTables(pool: pg.Pool, config: ServiceConfig): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS accounts (
      customer_id text PRIMARY KEY,
      balance_cents bigint NOT NULL CHECK (balance_cents >= 0),
      held_cents bigint NOT NULL DEFAULT 0 CHECK (held_cents >= 0),
      CHECK (held_cents <= balance_cents));
    CREATE TABLE IF NOT EXISTS holds (
      order_id text PRIMARY KEY,
      customer_id text NOT NULL REFERENCES accounts,
      amount_cents bigint NOT NULL,
      status text NOT NULL CHECK (status IN ('held', 'captured', 'released')));`);
  for (const customer of config.customers) {
    await pool.query(
      'INSERT INTO accounts (customer_id, balance_cents) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [customer.customerId, customer.balanceCents],
    );
  }
}

function authorization(payload: unknown): Authorization {
  const { orderId, customerId, amountCents } = (payload ?? {}) as Partial<Authorization>;
  if (typeof orderId !== 'string' || typeof customerId !== 'string' || !Number.isSafeInteger(amountCents)) {
    throw new TypeError(`not an authorization: ${JSON.stringify(payload)}`);
  }
  return { orderId, customerId, amountCents: amountCents as number };
}

/** The TCC handlers of payment authorization; each runs in the guard row's transaction (`ctx.db`). */
export const authorize: TccHandlers<pg.PoolClient> = {
  async try(payload, { db }) {
    const { orderId, customerId, amountCents } = authorization(payload);
    const held = await db.query(
      `UPDATE accounts SET held_cents = held_cents + $2
       WHERE customer_id = $1 AND balance_cents - held_cents >= $2 RETURNING customer_id`,
      [customerId, amountCents],
    );
    if (held.rowCount !== 1) {
      throw new BusinessFailure('CardDeclined', `${customerId} cannot cover ${amountCents} cents`);
    }
    await db.query(
      `INSERT INTO holds (order_id, customer_id, amount_cents, status) VALUES ($1, $2, $3, 'held')`,
      [orderId, customerId, amountCents],
    );
    return { holdId: `hold-${orderId}` } satisfies Hold;
  },
  async confirm(_payload, { db, tried }) {
    // The confirm's payload is the coordinator's; the try's is what was held.
    const { orderId } = authorization(tried?.payload);
    const hold = await db.query<{ customer_id: string; amount_cents: string }>(
      `UPDATE holds SET status = 'captured' WHERE order_id = $1 AND status = 'held' RETURNING customer_id, amount_cents`,
      [orderId],
    );
    const row = hold.rows[0];
    if (row === undefined) throw new Error(`no hold for ${orderId} to capture`);
    await db.query(
      'UPDATE accounts SET balance_cents = balance_cents - $2, held_cents = held_cents - $2 WHERE customer_id = $1',
      [row.customer_id, row.amount_cents],
    );
  },
  async cancel(_payload, { db, tried }) {
    // A declined try held nothing (its guard row rolled back with it): the guard never calls this for it.
    const { orderId } = authorization(tried?.payload);
    const hold = await db.query<{ customer_id: string; amount_cents: string }>(
      `UPDATE holds SET status = 'released' WHERE order_id = $1 AND status = 'held' RETURNING customer_id, amount_cents`,
      [orderId],
    );
    const row = hold.rows[0];
    if (row === undefined) return;
    await db.query('UPDATE accounts SET held_cents = held_cents - $2 WHERE customer_id = $1', [
      row.customer_id,
      row.amount_cents,
    ]);
  },
};

/** Starts the payment service: its tables, the guard, and the HTTP server on `config.paymentPort`. */
export async function startPaymentService(config: ServiceConfig, logger: Logger): Promise<Service> {
  const pool = schemaPool(config, config.schemas.payment);
  await ensurePaymentTables(pool, config);
  const store = postgresGuardStore<pg.PoolClient>({
    pool,
    schema: config.schemas.payment,
    table: 'tcc_guard',
  });
  await store.ensureSchema();
  const guard = createTccGuard({ store, logger });
  const handler = tccHttpHandler(authorize, {
    guard,
    basePath: authorizePath,
    resource: 'authorize',
    sweepIntervalMs: 2_000,
    logger,
  });
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.paymentPort, '127.0.0.1', () => resolve());
  });
  logger.info('payment service listening', { port: (server.address() as AddressInfo).port });
  return {
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await handler.close();
      await pool.end();
    },
  };
}
