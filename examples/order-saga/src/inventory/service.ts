/**
 * The inventory service: stock in its own PostgreSQL schema.
 *
 * - A saga participant over Kafka, as a decorated class: `reserve-stock` moves units from
 *   available to reserved (`reserved += quantity` if `on_hand - reserved >= quantity`, else
 *   `OutOfStock`), its compensation releases them.
 * - A decorated consumer of the order events (the stock ledger): an order's `COMPLETED` event
 *   ships its reservation (`on_hand -= quantity, reserved -= quantity`); its `CANCELLED` event
 *   needs nothing here (the saga released the units).
 *
 * Every change is one PostgreSQL transaction keyed by the order id, so a command or an event
 * handled twice (a redelivery after a crash, a duplicate event) changes nothing the second time:
 * the participant's own idempotency store is in memory and does not survive a restart, the
 * `reservations` table does. A compensation that arrives before its command (the command was
 * slow) records a `released` row, so the late command is refused instead of reserving for good.
 * @module
 */

import { createConsumer, Handler, type Message, Subscribe } from '@cascade/consumer';
import type { Logger } from '@cascade/core';
import {
  BusinessFailure,
  Command,
  type CommandContext,
  Compensate,
  createSagaParticipant,
  participantFrom,
  SagaParticipant,
} from '@cascade/saga';
import { SchemaRegistry, string } from '@cascade/schema';
import type pg from 'pg';
import { participants, type ServiceConfig, topicsFor } from '../config.js';
import { type OrderEvent, serdes } from '../events.js';
import { inTransaction, kafkaConfig, type Service, schemaPool } from '../service.js';

/** The reserve-stock command's payload. */
export interface ReserveStock {
  readonly orderId: string;
  readonly sku: string;
  readonly quantity: number;
}

/** Creates the inventory tables and seeds the stock (idempotent). */
export async function ensureInventoryTables(pool: pg.Pool, config: ServiceConfig): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS stock (
      sku text PRIMARY KEY,
      on_hand integer NOT NULL CHECK (on_hand >= 0),
      reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
      CHECK (reserved <= on_hand));
    CREATE TABLE IF NOT EXISTS reservations (
      order_id text PRIMARY KEY,
      sku text NOT NULL,
      quantity integer NOT NULL,
      status text NOT NULL CHECK (status IN ('reserved', 'refused', 'released', 'shipped')));`);
  for (const item of config.stock) {
    await pool.query('INSERT INTO stock (sku, on_hand) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      item.sku,
      item.units,
    ]);
  }
}

function reserveStock(payload: unknown): ReserveStock {
  const { orderId, sku, quantity } = (payload ?? {}) as Partial<ReserveStock>;
  if (typeof orderId !== 'string' || typeof sku !== 'string' || !Number.isSafeInteger(quantity)) {
    throw new TypeError(`not a reserve-stock command: ${JSON.stringify(payload)}`);
  }
  return { orderId, sku, quantity: quantity as number };
}

/** The inventory's saga commands, on PostgreSQL. */
export function inventoryParticipant(pool: pg.Pool) {
  @SagaParticipant(participants.inventory)
  class Inventory {
    @Command('reserve-stock')
    async reserve(payload: unknown, _context: CommandContext): Promise<{ reservedUnits: number }> {
      const { orderId, sku, quantity } = reserveStock(payload);
      // The refusal commits with its row (so a redelivered command is refused again), then is thrown.
      const outcome = await inTransaction(pool, async (db): Promise<'reserved' | BusinessFailure> => {
        const claimed = await db.query(
          `INSERT INTO reservations (order_id, sku, quantity, status) VALUES ($1, $2, $3, 'reserved')
           ON CONFLICT DO NOTHING`,
          [orderId, sku, quantity],
        );
        if (claimed.rowCount === 0) {
          // Handled before (or compensated before it came): answer as the first time did.
          const { rows } = await db.query<{ status: string }>(
            'SELECT status FROM reservations WHERE order_id = $1',
            [orderId],
          );
          const status = rows[0]?.status;
          if (status === 'reserved' || status === 'shipped') return 'reserved';
          if (status === 'refused') return new BusinessFailure('OutOfStock', `${sku} was out of stock`);
          return new BusinessFailure('AlreadyReleased', `order ${orderId} was compensated before it came`);
        }
        const taken = await db.query(
          'UPDATE stock SET reserved = reserved + $2 WHERE sku = $1 AND on_hand - reserved >= $2',
          [sku, quantity],
        );
        if (taken.rowCount === 1) return 'reserved';
        await db.query(`UPDATE reservations SET status = 'refused' WHERE order_id = $1`, [orderId]);
        return new BusinessFailure('OutOfStock', `fewer than ${quantity} of ${sku} left`);
      });
      if (outcome instanceof BusinessFailure) throw outcome;
      return { reservedUnits: quantity };
    }

    @Compensate('reserve-stock')
    async release(payload: unknown, _context: CommandContext): Promise<null> {
      const { orderId, sku, quantity } = reserveStock(payload);
      await inTransaction(pool, async (db) => {
        const released = await db.query<{ sku: string; quantity: number }>(
          `UPDATE reservations SET status = 'released' WHERE order_id = $1 AND status = 'reserved'
           RETURNING sku, quantity`,
          [orderId],
        );
        const row = released.rows[0];
        if (row !== undefined) {
          await db.query('UPDATE stock SET reserved = reserved - $2 WHERE sku = $1', [row.sku, row.quantity]);
          return;
        }
        // Nothing reserved (refused, released before, or the command not here yet): an empty
        // rollback, remembered so that a late command is refused.
        await db.query(
          `INSERT INTO reservations (order_id, sku, quantity, status) VALUES ($1, $2, $3, 'released')
           ON CONFLICT DO NOTHING`,
          [orderId, sku, quantity],
        );
      });
      return null;
    }
  }
  return new Inventory();
}

/** The stock ledger: ships the reservation of each completed order. */
export function stockLedger(
  pool: pg.Pool,
  config: ServiceConfig,
  orderEvent: ReturnType<typeof serdes>['orderEvent'],
) {
  const topics = topicsFor(config.prefix);
  @Handler()
  class StockLedger {
    shipped = 0;

    @Subscribe(topics.events, {
      key: string(),
      value: orderEvent,
      tombstones: 'skip',
      concurrency: 'key',
      retry: { maximumAttempts: 5, initialIntervalMs: 100 },
      dlt: { topic: topics.ledgerDlt },
    })
    async onOrderEvent(message: Message<string, OrderEvent>): Promise<void> {
      if (message.value.kind !== 'COMPLETED') return;
      const { orderId } = message.value;
      await inTransaction(pool, async (db) => {
        const shipped = await db.query<{ sku: string; quantity: number }>(
          `UPDATE reservations SET status = 'shipped' WHERE order_id = $1 AND status = 'reserved'
           RETURNING sku, quantity`,
          [orderId],
        );
        const row = shipped.rows[0];
        if (row === undefined) return; // shipped before: a duplicate event
        await db.query('UPDATE stock SET on_hand = on_hand - $2, reserved = reserved - $2 WHERE sku = $1', [
          row.sku,
          row.quantity,
        ]);
        this.shipped++;
      });
    }
  }
  return new StockLedger();
}

/** Starts the inventory service: its tables, the saga participant and the stock ledger. */
export async function startInventoryService(config: ServiceConfig, logger: Logger): Promise<Service> {
  const pool = schemaPool(config, config.schemas.inventory);
  await ensureInventoryTables(pool, config);
  const kafka = kafkaConfig(config, 'inventory', logger);
  const topics = topicsFor(config.prefix);
  const registry = new SchemaRegistry({ url: config.registryUrl });
  const participant = createSagaParticipant({
    kafka,
    topics: topics.saga,
    logger,
    ...participantFrom(inventoryParticipant(pool)),
  });
  const ledger = createConsumer({
    kafka,
    groupId: `${config.prefix}.inventory.stock-ledger`,
    fromBeginning: true,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 1_000,
    logger,
  }).register(stockLedger(pool, config, serdes(registry).orderEvent));
  await Promise.all([participant.start(), ledger.start()]);
  return {
    async stop() {
      await Promise.all([participant.close(), ledger.close()]);
      await registry.close();
      await pool.end();
    },
  };
}
