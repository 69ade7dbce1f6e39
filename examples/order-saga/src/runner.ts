/**
 * Runs the order-saga example end to end: makes the run's topics and database schemas, starts
 * the order, inventory and payment services as processes, places the orders (Avro requests
 * through the registry), applies the disruptions it is given while they run (restart the payment
 * service, `kill -9` a service, restart the broker), waits until every order has finished and
 * the books have settled, audits them, and cleans up — processes, schemas — whatever happens.
 * Used by `npm run demo` (./demo.ts) and by test/e2e.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdmin, createProducer } from '@cascade/producer';
import { ensureSagaTopics } from '@cascade/saga';
import { bytes, SchemaRegistry, string } from '@cascade/schema';
import pg from 'pg';
import {
  type Books,
  type Check,
  type DeadLetters,
  deadLetterChecks,
  readBooks,
  readDeadLetters,
} from './audit.js';
import { participants, type ServiceConfig, topicsFor } from './config.js';
import { serdes } from './events.js';
import { type ServiceName, ServiceProcess } from './processes.js';
import { workload } from './workload.js';

/** A disruption, applied once the given fraction of the orders has finished. */
export interface Disruption {
  /** 0..1: when this share of the orders has finished. */
  readonly at: number;
  readonly action: 'restart-payment' | `kill-${ServiceName}` | 'restart-broker';
}

/** Options of {@link runOrderSaga}. */
export interface RunOptions {
  readonly cluster: { readonly brokers: readonly string[]; readonly registryUrl: string };
  /** Needed for the `restart-broker` disruption: stops and starts the broker. */
  readonly restartBroker?: () => Promise<void>;
  /** @default 300 */
  readonly orders?: number;
  /** @default [{ at: 0.35, action: 'restart-payment' }] */
  readonly disruptions?: readonly Disruption[];
  /** Orders in flight at most (requests sent, not finished). @default 60 */
  readonly window?: number;
  /** @default 127.0.0.1:5432, user postgres, database test (or PGHOST, PGPORT, PGUSER, PGDATABASE) */
  readonly postgres?: Partial<ServiceConfig['postgres']>;
  /** How long the orders may take to finish, and the books to settle. @default 240000 */
  readonly timeoutMs?: number;
  /** Progress, about twice a second. */
  readonly onProgress?: (progress: Progress) => void;
  /** Things worth telling as they happen (disruptions). */
  readonly onEvent?: (message: string) => void;
  readonly signal?: AbortSignal;
  /** @default 'warn' */
  readonly logLevel?: ServiceConfig['logLevel'];
}

/** Where a run is. */
export interface Progress {
  readonly placed: number;
  readonly finished: number;
  readonly completed: number;
  readonly cancelled: number;
  readonly total: number;
}

/** What a run found. */
export interface RunReport {
  readonly runId: string;
  readonly orders: number;
  readonly books: Books;
  readonly deadLetters: { readonly notifications: DeadLetters; readonly ledger: DeadLetters };
  readonly checks: readonly Check[];
  readonly ok: boolean;
  readonly disruptions: readonly string[];
  /** Saga steps retried or parked (by the circuit breaker), as the coordinator reported them (at least once). */
  readonly stepsDelayed: Readonly<Record<string, number>>;
  readonly timings: { readonly ordersMs: number; readonly settleMs: number; readonly totalMs: number };
  readonly logDir: string;
}

/** PostgreSQL did not answer. */
export class PostgresUnavailableError extends Error {
  override readonly name = 'PostgresUnavailableError';
}

const poisonKey = 'poison-record';

async function waitUntil(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    signal?.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function postgresOptions(given: RunOptions['postgres'] = {}): ServiceConfig['postgres'] {
  return {
    host: given.host ?? process.env.PGHOST ?? '127.0.0.1',
    port: given.port ?? Number(process.env.PGPORT ?? 5432),
    user: given.user ?? process.env.PGUSER ?? 'postgres',
    database: given.database ?? process.env.PGDATABASE ?? 'test',
  };
}

async function connectPostgres(postgres: ServiceConfig['postgres']): Promise<pg.Pool> {
  const pool = new pg.Pool({ ...postgres, max: 4, connectionTimeoutMillis: 5_000 });
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (error) {
    await pool.end();
    throw new PostgresUnavailableError(
      `PostgreSQL at ${postgres.user}@${postgres.host}:${postgres.port}/${postgres.database} did not answer (${(error as Error).message}). Start it (e.g. pg_ctlcluster <version> main start) or set PGHOST/PGPORT/PGUSER/PGDATABASE.`,
      { cause: error },
    );
  }
}

/** Checks that PostgreSQL answers. @throws {PostgresUnavailableError} when it does not. */
export async function checkPostgres(given?: RunOptions['postgres']): Promise<void> {
  await (await connectPostgres(postgresOptions(given))).end();
}

async function retrying<T>(fn: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const retriable = (error as { retriable?: unknown }).retriable === true;
      if (!retriable || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** Runs the example. Resolves with the audit (check `ok`); rejects when it could not run. */
export async function runOrderSaga(options: RunOptions): Promise<RunReport> {
  const started = Date.now();
  const count = options.orders ?? 300;
  const timeoutMs = options.timeoutMs ?? 240_000;
  const runId = `os${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  const postgres = postgresOptions(options.postgres);
  const pool = await connectPostgres(postgres);
  const { createServer } = await import('node:net');
  const paymentPort = await new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
  const work = workload(count, runId);
  const config: ServiceConfig = {
    brokers: options.cluster.brokers,
    registryUrl: options.cluster.registryUrl,
    prefix: `order-saga-${runId}`,
    postgres,
    schemas: { order: `${runId}_order`, inventory: `${runId}_inventory`, payment: `${runId}_payment` },
    paymentPort,
    stock: work.stock,
    customers: work.customers,
    logLevel: options.logLevel ?? 'warn',
  };
  const topics = topicsFor(config.prefix);
  const logDir = join(tmpdir(), 'cascade-order-saga', runId);
  mkdirSync(logDir, { recursive: true });
  const services = {
    payment: new ServiceProcess('payment', config, join(logDir, 'payment.log')),
    inventory: new ServiceProcess('inventory', config, join(logDir, 'inventory.log')),
    order: new ServiceProcess('order', config, join(logDir, 'order.log')),
  };
  const kafka = { brokers: [...config.brokers], clientId: 'order-saga-runner' };
  const registry = new SchemaRegistry({ url: config.registryUrl });
  const requests = createProducer({ kafka, key: string(), value: serdes(registry).placeOrder });
  const raw = createProducer({ kafka, key: string(), value: bytes() });
  const applied: string[] = [];
  const tell = (message: string) => {
    applied.push(message);
    options.onEvent?.(message);
  };
  try {
    for (const schema of Object.values(config.schemas))
      await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await retrying(async () => {
      await using admin = createAdmin({ kafka });
      await admin.ensureTopics([
        { topic: topics.requests, partitions: 3 },
        { topic: topics.requestsDlt, partitions: 1 },
        { topic: topics.events, partitions: 3 },
        { topic: topics.notificationsDlt, partitions: 1 },
        { topic: topics.ledgerDlt, partitions: 1 },
      ]);
      await ensureSagaTopics(kafka, topics.saga, { partitions: 3, participants: [participants.inventory] });
    });
    await Promise.all(Object.values(services).map((service) => service.start()));
    await Promise.all([requests.connect(), raw.connect()]);

    // A record no consumer can read: both consumers of the order events must dead-letter it.
    await raw.send({ topic: topics.events, key: poisonKey, value: Buffer.from('{"not":"avro"}') });

    const finished = async () => {
      const { rows } = await pool.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM "${config.schemas.order}".orders GROUP BY status`,
      );
      const by = Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
      return { completed: by.completed ?? 0, cancelled: by.cancelled ?? 0 };
    };
    const pending = [...(options.disruptions ?? [{ at: 0.35, action: 'restart-payment' }])].sort(
      (a, b) => a.at - b.at,
    );
    const window = options.window ?? 60;
    let placed = 0;
    let progress: Progress = { placed: 0, finished: 0, completed: 0, cancelled: 0, total: count };
    const ordersStarted = Date.now();
    const deadline = ordersStarted + timeoutMs;
    while (progress.finished < count) {
      options.signal?.throwIfAborted();
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms with ${progress.finished} of ${count} orders finished (logs in ${logDir})`,
        );
      }
      const next = work.orders.slice(placed, Math.min(count, progress.finished + window));
      if (next.length > 0) {
        await Promise.all(
          next.map((order) => requests.send({ topic: topics.requests, key: order.orderId, value: order })),
        );
        placed += next.length;
      }
      const disruption = pending[0];
      if (disruption !== undefined && progress.finished >= disruption.at * count) {
        pending.shift();
        await disrupt(disruption, services, options, tell, progress.finished);
      }
      const done = await finished();
      progress = { placed, finished: done.completed + done.cancelled, ...done, total: count };
      options.onProgress?.(progress);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const ordersMs = Date.now() - ordersStarted;

    // Settling: the confirms, the stock ledger and the notifications catch up with the sagas.
    const settleStarted = Date.now();
    let books = await readBooks(pool, config, count);
    await waitUntil(
      async () => {
        books = await readBooks(pool, config, count);
        return books.checks.every((check) => check.ok);
      },
      'the books to settle',
      Math.max(30_000, deadline - Date.now()),
      options.signal,
    ).catch(() => undefined); // the failed checks are reported below
    const bounced = new Set(
      (
        await pool.query<{ order_id: string }>(
          `SELECT order_id FROM "${config.schemas.order}".orders WHERE status <> 'pending' AND customer_id = ANY($1::text[])`,
          [config.customers.filter((c) => c.bounces === true).map((c) => c.customerId)],
        )
      ).rows.map((row) => row.order_id),
    );
    let deadLetters = {
      notifications: await readDeadLetters(config.brokers, topics.notificationsDlt),
      ledger: await readDeadLetters(config.brokers, topics.ledgerDlt),
    };
    let dltChecks = deadLetterChecks(topics, deadLetters, bounced, poisonKey);
    await waitUntil(
      async () => {
        deadLetters = {
          notifications: await readDeadLetters(config.brokers, topics.notificationsDlt),
          ledger: await readDeadLetters(config.brokers, topics.ledgerDlt),
        };
        dltChecks = deadLetterChecks(topics, deadLetters, bounced, poisonKey);
        return dltChecks.every((check) => check.ok);
      },
      'the dead letters',
      30_000,
      options.signal,
    ).catch(() => undefined);
    const checks = [...books.checks, ...dltChecks];
    return {
      runId,
      orders: count,
      books,
      deadLetters,
      checks,
      ok: checks.every((check) => check.ok),
      disruptions: applied,
      stepsDelayed: services.order.countLogLines(new Set(['step-retrying', 'step-parked'])),
      timings: { ordersMs, settleMs: Date.now() - settleStarted, totalMs: Date.now() - started },
      logDir,
    };
  } finally {
    await Promise.allSettled([requests.close(), raw.close()]);
    await Promise.allSettled(Object.values(services).map((service) => service.close()));
    await registry.close();
    for (const schema of Object.values(config.schemas)) {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    }
    await pool.end();
  }
}

async function disrupt(
  disruption: Disruption,
  services: Record<ServiceName, ServiceProcess>,
  options: RunOptions,
  tell: (message: string) => void,
  finished: number,
): Promise<void> {
  const at = `after ${finished} orders`;
  if (disruption.action === 'restart-payment') {
    await services.payment.kill();
    tell(`${at}: killed the payment service (kill -9) while sagas were trying payments`);
    await services.payment.start();
    tell('  the payment service is back');
  } else if (disruption.action === 'restart-broker') {
    if (options.restartBroker === undefined) throw new Error('restart-broker needs options.restartBroker');
    tell(`${at}: restarting the Kafka broker`);
    await options.restartBroker();
    tell('  the broker is back');
  } else {
    const name = disruption.action.slice('kill-'.length) as ServiceName;
    await services[name].kill();
    tell(`${at}: killed the ${name} service${name === 'order' ? ' and its saga coordinator' : ''} (kill -9)`);
    await services[name].start();
    tell(`  the ${name} service is back`);
  }
}
