/**
 * The order service: orders in its own PostgreSQL schema, and the saga coordinator.
 *
 * - **Intake** (a decorated handler class in exactly-once mode): each `PlaceOrder` request
 *   begins a place-order saga (idempotent per order id) and emits `PLACED`, in the transaction
 *   that commits the request's offset — so `PLACED` is written once per request.
 * - **The coordinator** runs the sagas (see ./saga.ts); its local steps write the `orders` table
 *   and emit `COMPLETED` / `CANCELLED` with an idempotent producer, after the database commit
 *   (at least once: a step re-run after a crash emits again, and every consumer of the events is
 *   idempotent per order).
 * - **Notifications** (a decorated handler class with retries and a DLT): tells the customer
 *   their order completed or was cancelled; a customer whose mailbox bounces fails every attempt,
 *   and the event ends in the DLT with the error in its headers.
 * @module
 */

import { createConsumer, Handler, type HandlerContext, type Message, Subscribe } from '@cascade/consumer';
import type { Logger } from '@cascade/core';
import { createProducer } from '@cascade/producer';
import { createSagaCoordinator, httpTccParticipant } from '@cascade/saga';
import { SchemaRegistry, string } from '@cascade/schema';
import type pg from 'pg';
import { authorizePath, participants, type ServiceConfig, topicsFor } from '../config.js';
import { type OrderEvent, type PlaceOrder, serdes } from '../events.js';
import { kafkaConfig, type Service, schemaPool } from '../service.js';
import { placeOrderSaga } from './saga.js';

/** Creates the order tables (idempotent). */
export async function ensureOrderTables(pool: pg.Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS orders (
      order_id text PRIMARY KEY,
      customer_id text NOT NULL,
      sku text NOT NULL,
      quantity integer NOT NULL,
      amount_cents bigint NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'completed', 'cancelled')),
      reason text);
    CREATE TABLE IF NOT EXISTS notifications (
      order_id text NOT NULL,
      kind text NOT NULL,
      PRIMARY KEY (order_id, kind));
    CREATE TABLE IF NOT EXISTS attention (
      saga_id text PRIMARY KEY,
      status text NOT NULL,
      detail text);`);
}

/** A customer's mailbox refused the notification. Retried, then dead-lettered. */
export class MailboxUnavailable extends Error {
  override readonly name = 'MailboxUnavailable';
}

/** Starts the order service. */
export async function startOrderService(config: ServiceConfig, logger: Logger): Promise<Service> {
  const pool = schemaPool(config, config.schemas.order);
  await ensureOrderTables(pool);
  const kafka = kafkaConfig(config, 'order', logger);
  const topics = topicsFor(config.prefix);
  const registry = new SchemaRegistry({ url: config.registryUrl });
  const { placeOrder: placeOrderSerde, orderEvent } = serdes(registry);
  const bouncing = new Set(config.customers.filter((c) => c.bounces === true).map((c) => c.customerId));

  // Idempotent (the default): a retried send is written once.
  const events = createProducer({ kafka, key: string(), value: orderEvent, lingerMs: 2 });
  const emit = (order: PlaceOrder, kind: OrderEvent['kind'], reason: string | null = null) =>
    events.send({ topic: topics.events, key: order.orderId, value: { ...order, kind, reason } });

  let coordinatorRef: {
    status(sagaId: string): Promise<{ failure?: { error: { type: string } } } | undefined>;
  };
  const placeOrder = placeOrderSaga({
    async open(order) {
      await pool.query(
        `INSERT INTO orders (order_id, customer_id, sku, quantity, amount_cents, status)
         VALUES ($1, $2, $3, $4, $5, 'pending') ON CONFLICT DO NOTHING`,
        [order.orderId, order.customerId, order.sku, order.quantity, order.amountCents],
      );
    },
    async cancel(order, sagaId) {
      const reason = (await coordinatorRef.status(sagaId))?.failure?.error.type ?? 'unknown';
      await pool.query(
        `UPDATE orders SET status = 'cancelled', reason = $2 WHERE order_id = $1 AND status = 'pending'`,
        [order.orderId, reason],
      );
      await emit(order, 'CANCELLED', reason);
    },
    async complete(order) {
      await pool.query(`UPDATE orders SET status = 'completed' WHERE order_id = $1 AND status = 'pending'`, [
        order.orderId,
      ]);
      await emit(order, 'COMPLETED');
    },
  });

  const coordinator = createSagaCoordinator({
    kafka,
    sagas: [placeOrder],
    topics: topics.saga,
    sessionTimeoutMs: 6_000,
    circuitBreaker: { resetTimeoutMs: 2_000 },
    httpParticipants: {
      [participants.payments]: httpTccParticipant({
        url: `http://127.0.0.1:${config.paymentPort}${authorizePath}`,
        timeoutMs: 5_000,
      }),
    },
    onNeedsAttention: (state) => {
      pool
        .query('INSERT INTO attention (saga_id, status, detail) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
          state.sagaId,
          state.status,
          JSON.stringify(state.failure ?? null),
        ])
        .catch((error: unknown) => logger.error('could not record a saga that needs attention', { error }));
    },
    logger,
  });
  coordinatorRef = coordinator;
  // What a disruption costs, in the log (the runner counts these lines): retried and parked steps.
  coordinator.onNotification((n) => {
    if (n.kind === 'step-retrying' || n.kind === 'step-parked') {
      logger.warn(n.kind, { sagaId: n.sagaId, step: n.step, attempt: n.attempt, error: n.error?.type });
    }
  });

  @Handler()
  class Intake {
    @Subscribe(topics.requests, {
      key: string(),
      value: placeOrderSerde,
      tombstones: 'skip',
      // Exactly-once mode handles a partition's records one at a time (concurrency: 'key' is refused).
      dlt: { topic: topics.requestsDlt },
    })
    async onPlaceOrder(message: Message<string, PlaceOrder>, context: HandlerContext): Promise<void> {
      const order = message.value;
      await coordinator.begin(placeOrder, order, { sagaId: order.orderId });
      const placed: OrderEvent = { ...order, kind: 'PLACED', reason: null };
      context.send({
        topic: topics.events,
        key: order.orderId,
        value: await orderEvent.serialize(placed, { topic: topics.events, headers: {}, isKey: false }),
      });
    }
  }

  @Handler()
  class Notifications {
    @Subscribe(topics.events, {
      key: string(),
      value: orderEvent,
      tombstones: 'skip',
      concurrency: 'key',
      retry: { maximumAttempts: 3, initialIntervalMs: 50 },
      dlt: { topic: topics.notificationsDlt },
    })
    async onOrderEvent(message: Message<string, OrderEvent>): Promise<void> {
      const event = message.value;
      if (event.kind === 'PLACED') return;
      if (bouncing.has(event.customerId)) {
        throw new MailboxUnavailable(`the mailbox of ${event.customerId} bounced the ${event.kind} notice`);
      }
      await pool.query('INSERT INTO notifications (order_id, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        event.orderId,
        event.kind,
      ]);
    }
  }

  const consumerOptions = {
    kafka,
    fromBeginning: true,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 1_000,
    logger,
  };
  const intake = createConsumer({
    ...consumerOptions,
    groupId: `${config.prefix}.order.intake`,
    eos: { transactionTimeoutMs: 30_000 },
  }).register(new Intake());
  const notifications = createConsumer({
    ...consumerOptions,
    groupId: `${config.prefix}.order.notifications`,
  }).register(new Notifications());

  await events.connect();
  await coordinator.start();
  await Promise.all([intake.start(), notifications.start()]);
  return {
    async stop() {
      await intake.close();
      await coordinator.close();
      await notifications.stop();
      await events.close();
      await registry.close();
      await pool.end();
    },
  };
}
