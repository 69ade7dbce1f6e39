/**
 * A small shop on Cascade in one process (examples/order-saga is the multi-process version that
 * `npm run demo` runs), run in CI by test/docs/demo.test.ts: orders are Avro events through the
 * schema registry; an order service consumes them and begins a place-order saga for each; the
 * inventory and payment services are saga participants. Some orders run out of stock, some cards
 * are declined: those sagas compensate. At the end the books must balance.
 */

import { createConsumer } from '@cascade/consumer';
import { type Logger, noopLogger } from '@cascade/core';
import { createAdmin, createProducer } from '@cascade/producer';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  replyType,
  type SagaOutcome,
  sagaTopics,
} from '@cascade/saga';
import { type InferAvro, registryAvro, SchemaRegistry, string } from '@cascade/schema';

const orderSchema = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'demo.shop',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'sku', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'amountCents', type: 'int' },
  ],
} as const;

/** An order, as the Avro schema above defines it. */
export type OrderPlaced = InferAvro<typeof orderSchema>;

const placeOrder = defineSaga<OrderPlaced>('place-order')
  .step('reserve-stock', {
    participant: 'inventory',
    invoke: ({ input }) => ({ orderId: input.orderId, sku: input.sku, quantity: input.quantity }),
    reply: replyType<{ reserved: number }>(),
    compensate: ({ input }) => ({ orderId: input.orderId }),
    timeoutMs: 10_000,
  })
  .step('charge-card', {
    participant: 'payment',
    invoke: ({ input }) => ({ orderId: input.orderId, amountCents: input.amountCents }),
    reply: replyType<{ chargeId: string }>(),
    compensate: ({ input }) => ({ orderId: input.orderId }),
    timeoutMs: 10_000,
  })
  .step('confirm-order', {
    run: ({ input, results }) => ({ orderId: input.orderId, chargeId: results['charge-card'].chargeId }),
  })
  .build();

/** What the shop run found. */
export interface ShopReport {
  readonly orders: number;
  readonly outcomes: Readonly<Record<SagaOutcome, number>>;
  readonly reasons: Readonly<Record<string, number>>;
  /** Units sold by the inventory's books, and by the completed orders: equal when nothing was lost. */
  readonly unitsSold: { readonly books: number; readonly orders: number };
  /** Cents kept by the payment's books, and by the completed orders. */
  readonly centsCollected: { readonly books: number; readonly orders: number };
  readonly balanced: boolean;
}

/** Runs `count` orders through the shop on the given cluster. */
export async function runShop(
  cluster: { brokers: readonly string[]; registryUrl: string },
  options: {
    count?: number;
    prefix?: string;
    logger?: Logger;
    progress?: (done: number, total: number) => void;
  } = {},
): Promise<ShopReport> {
  const count = options.count ?? 60;
  const prefix = options.prefix ?? `shop-${Date.now()}`;
  const logger = options.logger ?? noopLogger;
  const kafka = { brokers: [...cluster.brokers], clientId: 'cascade-shop', logger };
  const ordersTopic = `${prefix}.orders`;
  const topics = sagaTopics(prefix);

  const admin = createAdmin({ kafka });
  await admin.ensureTopics([{ topic: ordersTopic, partitions: 3 }]);
  await admin.close();
  await ensureSagaTopics(kafka, topics, { partitions: 3, participants: ['inventory', 'payment'] });

  // The inventory service: SKU-1 and SKU-2 are plentiful, SKU-3 is scarce.
  const stock = new Map([
    ['SKU-1', 40],
    ['SKU-2', 40],
    ['SKU-3', 6],
  ]);
  const initialUnits = [...stock.values()].reduce((a, b) => a + b, 0);
  const reservations = new Map<string, { sku: string; quantity: number }>();
  const inventory = createSagaParticipant({
    kafka,
    participant: 'inventory',
    topics,
    logger,
    commands: {
      'reserve-stock': {
        invoke: (payload) => {
          const { orderId, sku, quantity } = payload as { orderId: string; sku: string; quantity: number };
          const left = stock.get(sku) ?? 0;
          if (left < quantity) throw new BusinessFailure('OutOfStock', `only ${left} of ${sku} left`);
          stock.set(sku, left - quantity);
          reservations.set(orderId, { sku, quantity });
          return { reserved: quantity };
        },
        compensate: (payload) => {
          const { orderId } = payload as { orderId: string };
          const reservation = reservations.get(orderId);
          if (reservation === undefined) return; // nothing was reserved: an empty rollback
          stock.set(reservation.sku, (stock.get(reservation.sku) ?? 0) + reservation.quantity);
          reservations.delete(orderId);
        },
      },
    },
  });
  // The payment service: cards decline above 90.00.
  const charges = new Map<string, number>();
  const payment = createSagaParticipant({
    kafka,
    participant: 'payment',
    topics,
    logger,
    commands: {
      'charge-card': {
        invoke: (payload) => {
          const { orderId, amountCents } = payload as { orderId: string; amountCents: number };
          if (amountCents > 9_000)
            throw new BusinessFailure('CardDeclined', `${amountCents} cents is over the limit`);
          charges.set(orderId, amountCents);
          return { chargeId: `ch-${orderId}` };
        },
        compensate: (payload) => void charges.delete((payload as { orderId: string }).orderId),
      },
    },
  });

  // The order service: consumes OrderPlaced events and runs a saga for each.
  const registry = new SchemaRegistry({ url: cluster.registryUrl });
  const orderSerde = registryAvro({ registry, schema: orderSchema });
  const coordinator = createSagaCoordinator({ kafka, sagas: [placeOrder], topics, logger });
  const orderService = createConsumer({
    kafka,
    groupId: `${prefix}.order-service`,
    fromBeginning: true,
    logger,
  });
  orderService.subscribe({
    topic: ordersTopic,
    key: string(),
    value: orderSerde,
    tombstones: 'skip',
    handler: async (message) => {
      await coordinator.begin(placeOrder, message.value, { sagaId: message.value.orderId });
    },
  });
  const producer = createProducer({ kafka, key: string(), value: orderSerde });

  try {
    await Promise.all([
      inventory.start(),
      payment.start(),
      coordinator.start(),
      orderService.start(),
      producer.connect(),
    ]);
    const orders: OrderPlaced[] = Array.from({ length: count }, (_, i) => ({
      orderId: `order-${String(i + 1).padStart(4, '0')}`,
      sku: `SKU-${(i % 3) + 1}`,
      quantity: 1 + (i % 2),
      amountCents: 1_000 + ((i * 1_337) % 9_500),
    }));
    // Concurrent sends share produce requests (the producer batches them).
    await Promise.all(
      orders.map((order) => producer.send({ topic: ordersTopic, key: order.orderId, value: order })),
    );

    let done = 0;
    const outcomes = await Promise.all(
      orders.map(async (order) => {
        const outcome = await coordinator.result(order.orderId);
        options.progress?.(++done, count);
        return outcome;
      }),
    );
    const tally = {
      completed: 0,
      compensated: 0,
      failed: 0,
      'needs-attention': 0,
      'heuristic-mixed': 0,
    } satisfies Record<SagaOutcome, number>;
    const reasons: Record<string, number> = {};
    let soldByOrders = 0;
    let collectedByOrders = 0;
    for (const [i, outcome] of outcomes.entries()) {
      tally[outcome]++;
      const order = orders[i];
      if (order === undefined) continue;
      if (outcome === 'completed') {
        soldByOrders += order.quantity;
        collectedByOrders += order.amountCents;
      } else {
        const reason = (await coordinator.status(order.orderId))?.failure?.error.type ?? 'unknown';
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    }
    const soldByBooks = initialUnits - [...stock.values()].reduce((a, b) => a + b, 0);
    const collectedByBooks = [...charges.values()].reduce((a, b) => a + b, 0);
    return {
      orders: count,
      outcomes: tally,
      reasons,
      unitsSold: { books: soldByBooks, orders: soldByOrders },
      centsCollected: { books: collectedByBooks, orders: collectedByOrders },
      balanced:
        tally.completed + tally.compensated === count &&
        soldByBooks === soldByOrders &&
        collectedByBooks === collectedByOrders,
    };
  } finally {
    await orderService.close();
    await producer.close();
    await coordinator.close();
    await Promise.all([inventory.close(), payment.close()]);
    await registry.close();
  }
}
