/**
 * The place-order saga. Its local steps run in the order service (where the coordinator runs);
 * stock is reserved in the inventory over Kafka; payment is authorized by a TCC step over HTTP.
 *
 * 1. `open-order` (local): records the order as pending. Undo: cancels it, with the reason.
 * 2. `reserve-stock` (inventory, Kafka): reserves the units. Compensation: releases them.
 * 3. `authorize-payment` (payments, TCC over HTTP): try holds the amount on the customer's
 *    balance; once every step has succeeded the coordinator confirms (captures), and when the
 *    saga fails it cancels (releases).
 * 4. `complete-order` (local): records the order as completed.
 *
 * Out of stock fails step 2, a declined card step 3: the steps before are compensated in reverse.
 * @module
 */

import { defineSaga, replyType } from '@cascade/saga';
import { participants } from '../config.js';
import type { PlaceOrder } from '../events.js';

/** What the order service does in the saga's local steps. */
export interface OrderSteps {
  open(order: PlaceOrder): Promise<void>;
  cancel(order: PlaceOrder, sagaId: string): Promise<void>;
  complete(order: PlaceOrder): Promise<void>;
}

/** Builds the saga on the order service's local steps. */
export function placeOrderSaga(steps: OrderSteps) {
  const retry = { initialIntervalMs: 200, maximumIntervalMs: 3_000, maximumAttempts: 12 };
  return defineSaga<PlaceOrder>('place-order', { version: 1, timeoutMs: 180_000 })
    .step('open-order', {
      run: async ({ input }) => {
        await steps.open(input);
        return { opened: input.orderId };
      },
      undo: ({ input, sagaId }) => steps.cancel(input, sagaId),
    })
    .step('reserve-stock', {
      participant: participants.inventory,
      invoke: ({ input }) => ({ orderId: input.orderId, sku: input.sku, quantity: input.quantity }),
      reply: replyType<{ reservedUnits: number }>(),
      // The same payload: a release that overtakes its reservation is remembered by order id.
      compensate: ({ input }) => ({ orderId: input.orderId, sku: input.sku, quantity: input.quantity }),
      timeoutMs: 10_000,
      retry,
    })
    .tcc('authorize-payment', {
      participant: participants.payments,
      try: ({ input }) => ({
        orderId: input.orderId,
        customerId: input.customerId,
        amountCents: input.amountCents,
      }),
      reply: replyType<{ holdId: string }>(),
      reservationTtlMs: 120_000,
      timeoutMs: 5_000,
      retry,
    })
    .step('complete-order', {
      run: async ({ input }) => {
        await steps.complete(input);
        return { completed: input.orderId };
      },
    })
    .build();
}
