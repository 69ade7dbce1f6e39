/**
 * The auditor: reads the three services' books (their PostgreSQL schemas) and the dead-letter
 * topics, and checks the invariants that prove no order, unit or cent was lost or applied twice.
 * @module
 */

import { createConsumer } from '@cascade/consumer';
import { noopLogger } from '@cascade/core';
import { createAdmin } from '@cascade/producer';
import { bytes, string } from '@cascade/schema';
import type pg from 'pg';
import type { ServiceConfig, Topics } from './config.js';

/** One invariant and whether it holds. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** A dead-lettered record, grouped by why. */
export interface DeadLetters {
  readonly topic: string;
  readonly records: number;
  /** `<exception class>: <first sentence of the message>` -> how many. */
  readonly reasons: Readonly<Record<string, number>>;
  readonly keys: ReadonlySet<string>;
}

/** What the books say. */
export interface Books {
  readonly orders: {
    readonly total: number;
    readonly completed: number;
    readonly cancelled: number;
    readonly pending: number;
  };
  readonly cancelledBecause: Readonly<Record<string, number>>;
  readonly needsAttention: number;
  readonly stock: ReadonlyArray<{
    sku: string;
    initial: number;
    shipped: number;
    onHand: number;
    reserved: number;
    ordered: number;
  }>;
  readonly balances: {
    initial: number;
    captured: number;
    final: number;
    held: number;
    completedAmount: number;
  };
  readonly counts: { completed: number; captured: number; shipped: number; notified: number };
  readonly checks: readonly Check[];
}

const q = (schema: string, table: string) => `"${schema}".${table}`;
const num = (value: unknown) => Number(value ?? 0);

async function ids(pool: pg.Pool, sql: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ id: string }>(sql);
  return new Set(rows.map((row) => row.id));
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
  a.size === b.size && [...a].every((x) => b.has(x));

/** Reads the books and checks every invariant. */
export async function readBooks(
  pool: pg.Pool,
  config: ServiceConfig,
  expectedOrders: number,
): Promise<Books> {
  const { order, inventory, payment } = config.schemas;
  const status = await pool.query<{ status: string; reason: string | null; n: string }>(
    `SELECT status, reason, count(*) AS n FROM ${q(order, 'orders')} GROUP BY status, reason`,
  );
  const orders = { total: 0, completed: 0, cancelled: 0, pending: 0 };
  const cancelledBecause: Record<string, number> = {};
  for (const row of status.rows) {
    const n = num(row.n);
    orders.total += n;
    if (row.status === 'completed' || row.status === 'cancelled' || row.status === 'pending')
      orders[row.status] += n;
    if (row.status === 'cancelled')
      cancelledBecause[row.reason ?? 'unknown'] = (cancelledBecause[row.reason ?? 'unknown'] ?? 0) + n;
  }
  const needsAttention = num(
    (await pool.query(`SELECT count(*) AS n FROM ${q(order, 'attention')}`)).rows[0]?.n,
  );

  const stockRows = await pool.query<{
    sku: string;
    on_hand: number;
    reserved: number;
    shipped: string;
    ordered: string;
  }>(
    `SELECT s.sku, s.on_hand, s.reserved,
       (SELECT coalesce(sum(quantity), 0) FROM ${q(inventory, 'reservations')} r WHERE r.sku = s.sku AND r.status = 'shipped') AS shipped,
       (SELECT coalesce(sum(quantity), 0) FROM ${q(order, 'orders')} o WHERE o.sku = s.sku AND o.status = 'completed') AS ordered
     FROM ${q(inventory, 'stock')} s ORDER BY s.sku`,
  );
  const initialStock = new Map(config.stock.map((s) => [s.sku, s.units]));
  const stock = stockRows.rows.map((row) => ({
    sku: row.sku,
    initial: initialStock.get(row.sku) ?? 0,
    shipped: num(row.shipped),
    onHand: num(row.on_hand),
    reserved: num(row.reserved),
    ordered: num(row.ordered),
  }));

  const accountRows = await pool.query<{
    customer_id: string;
    balance_cents: string;
    held_cents: string;
    captured: string;
    completed: string;
  }>(
    `SELECT a.customer_id, a.balance_cents, a.held_cents,
       (SELECT coalesce(sum(amount_cents), 0) FROM ${q(payment, 'holds')} h WHERE h.customer_id = a.customer_id AND h.status = 'captured') AS captured,
       (SELECT coalesce(sum(amount_cents), 0) FROM ${q(order, 'orders')} o WHERE o.customer_id = a.customer_id AND o.status = 'completed') AS completed
     FROM ${q(payment, 'accounts')} a`,
  );
  const initialBalance = new Map(config.customers.map((c) => [c.customerId, c.balanceCents]));
  const balances = { initial: 0, captured: 0, final: 0, held: 0, completedAmount: 0 };
  const badAccounts: string[] = [];
  for (const row of accountRows.rows) {
    const initial = initialBalance.get(row.customer_id) ?? 0;
    const [balance, held, captured, completed] = [
      row.balance_cents,
      row.held_cents,
      row.captured,
      row.completed,
    ].map(num) as [number, number, number, number];
    balances.initial += initial;
    balances.final += balance;
    balances.held += held;
    balances.captured += captured;
    balances.completedAmount += completed;
    if (initial - captured !== balance || held !== 0 || captured !== completed)
      badAccounts.push(row.customer_id);
  }

  const completedIds = await ids(
    pool,
    `SELECT order_id AS id FROM ${q(order, 'orders')} WHERE status = 'completed'`,
  );
  const capturedIds = await ids(
    pool,
    `SELECT order_id AS id FROM ${q(payment, 'holds')} WHERE status = 'captured'`,
  );
  const shippedIds = await ids(
    pool,
    `SELECT order_id AS id FROM ${q(inventory, 'reservations')} WHERE status = 'shipped'`,
  );
  const leftReserved = await ids(
    pool,
    `SELECT order_id AS id FROM ${q(inventory, 'reservations')} WHERE status = 'reserved'`,
  );
  const leftHeld = await ids(pool, `SELECT order_id AS id FROM ${q(payment, 'holds')} WHERE status = 'held'`);
  const openTries = await ids(
    pool,
    `SELECT transaction_id AS id FROM ${q(payment, 'tcc_guard')} WHERE status IN ('TRYING', 'TRIED')`,
  );
  const bouncing =
    config.customers
      .filter((c) => c.bounces === true)
      .map((c) => `'${c.customerId}'`)
      .join(',') || "''";
  const toNotify = await ids(
    pool,
    `SELECT order_id || '/' || upper(status) AS id FROM ${q(order, 'orders')} WHERE status <> 'pending' AND customer_id NOT IN (${bouncing})`,
  );
  const notified = await ids(pool, `SELECT order_id || '/' || kind AS id FROM ${q(order, 'notifications')}`);

  const badStock = stock.filter(
    (s) => s.initial - s.shipped !== s.onHand || s.reserved !== 0 || s.shipped !== s.ordered,
  );
  const checks: Check[] = [
    {
      name: 'every order finished',
      ok: orders.total === expectedOrders && orders.completed + orders.cancelled === expectedOrders,
      detail: `${orders.completed} completed + ${orders.cancelled} cancelled of ${expectedOrders} placed (${orders.pending} pending, ${orders.total} recorded)`,
    },
    {
      name: 'no saga needs an operator',
      ok: needsAttention === 0,
      detail: `${needsAttention} need attention`,
    },
    {
      name: 'stock: initial - shipped = on hand, nothing left reserved, shipped = ordered',
      ok: badStock.length === 0 && leftReserved.size === 0,
      detail: stock
        .map(
          (s) =>
            `${s.sku} ${s.initial} - ${s.shipped} = ${s.onHand} (reserved ${s.reserved}, ordered ${s.ordered})`,
        )
        .join('; '),
    },
    {
      name: 'balances: initial - captured = final, nothing left held, captured = completed amounts (per customer)',
      ok: badAccounts.length === 0 && leftHeld.size === 0 && openTries.size === 0,
      detail: `${balances.initial} - ${balances.captured} = ${balances.final} (held ${balances.held}, open tries ${openTries.size}, completed amounts ${balances.completedAmount})${badAccounts.length > 0 ? `; off: ${badAccounts.join(', ')}` : ''}`,
    },
    {
      name: 'completed orders = captured payments = shipped reservations (the same orders)',
      ok: sameSet(completedIds, capturedIds) && sameSet(completedIds, shippedIds),
      detail: `${completedIds.size} completed, ${capturedIds.size} captured, ${shippedIds.size} shipped`,
    },
    {
      name: 'every finished order of a reachable customer was notified once',
      ok: sameSet(toNotify, notified),
      detail: `${notified.size} notified of ${toNotify.size}`,
    },
  ];
  return {
    orders,
    cancelledBecause,
    needsAttention,
    stock,
    balances,
    counts: {
      completed: completedIds.size,
      captured: capturedIds.size,
      shipped: shippedIds.size,
      notified: notified.size,
    },
    checks,
  };
}

/** Reads a dead-letter topic from the beginning to its end. */
export async function readDeadLetters(brokers: readonly string[], topic: string): Promise<DeadLetters> {
  const kafka = { brokers: [...brokers], clientId: 'order-saga-audit', logger: noopLogger };
  const admin = createAdmin({ kafka });
  const ends = await admin.topicOffsets(topic).finally(() => admin.close());
  const remaining = new Map(
    ends.filter((p) => BigInt(p.high) > 0n).map((p) => [p.partition, BigInt(p.high)]),
  );
  const reasons: Record<string, number> = {};
  const keys = new Set<string>();
  let records = 0;
  if (remaining.size === 0) return { topic, records, reasons, keys };
  let resolve = (): void => {};
  const readToEnd = new Promise<void>((done) => {
    resolve = done;
  });
  await using consumer = createConsumer({
    kafka,
    groupId: `audit-${topic}-${Date.now()}`,
    fromBeginning: true,
  });
  consumer.subscribe({
    topic,
    key: string(),
    value: bytes(),
    dlt: false,
    handler: (message) => {
      records++;
      keys.add(message.key ?? '');
      const header = (name: string) => message.headers[name]?.toString() ?? '?';
      // The reason without the record's coordinates, cut at its first sentence.
      const reason = header('kafka_dlt-exception-message')
        .replace(/\s*\(topic [^)]*\)/, '')
        .split(/(?<=[.?])\s/)[0];
      const why = `${header('kafka_dlt-exception-fqcn')}: ${reason?.slice(0, 160)}`;
      reasons[why] = (reasons[why] ?? 0) + 1;
      if (BigInt(message.offset) + 1n >= (remaining.get(message.partition) ?? 0n)) {
        remaining.delete(message.partition);
      }
      if (remaining.size === 0) resolve();
    },
  });
  await consumer.start();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`could not read ${topic} to its end`)), 30_000);
  });
  try {
    await Promise.race([readToEnd, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return { topic, records, reasons, keys };
}

/** The DLT invariants: the notifications DLT holds the bouncing customers' orders and the poison record; the ledger's only the poison record. */
export function deadLetterChecks(
  topics: Topics,
  dead: { notifications: DeadLetters; ledger: DeadLetters },
  bouncedOrders: ReadonlySet<string>,
  poisonKey: string,
): Check[] {
  const expected = new Set([...bouncedOrders, poisonKey]);
  return [
    {
      name: `${topics.notificationsDlt} holds the bounced notices and the poison record, nothing else`,
      ok: sameSet(dead.notifications.keys, expected),
      detail: `${dead.notifications.keys.size} keys (${dead.notifications.records} records), expected ${expected.size}`,
    },
    {
      name: `${topics.ledgerDlt} holds only the poison record`,
      ok: sameSet(dead.ledger.keys, new Set([poisonKey])),
      detail: `${dead.ledger.keys.size} keys (${dead.ledger.records} records)`,
    },
  ];
}
