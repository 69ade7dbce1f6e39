/**
 * The example's Avro records, registered in the schema registry by the first serialize.
 * Types are inferred from the schemas (`InferAvro`), so a wrong field is a compile error.
 * @module
 */

import { type InferAvro, registryAvro, type SchemaRegistry } from '@cascade/schema';

/** A request to place an order: what a shop front (here, the runner) sends to the order service. */
export const placeOrderSchema = {
  type: 'record',
  name: 'PlaceOrder',
  namespace: 'cascade.examples.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'sku', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'amountCents', type: 'int' },
  ],
} as const;

/** A request to place an order. */
export type PlaceOrder = InferAvro<typeof placeOrderSchema>;

/**
 * What happened to an order: `PLACED` when the order service accepted the request, then
 * `COMPLETED` (stock reserved, payment authorized) or `CANCELLED` (with the reason).
 */
export const orderEventSchema = {
  type: 'record',
  name: 'OrderEvent',
  namespace: 'cascade.examples.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    {
      name: 'kind',
      type: { type: 'enum', name: 'OrderEventKind', symbols: ['PLACED', 'COMPLETED', 'CANCELLED'] },
    },
    { name: 'customerId', type: 'string' },
    { name: 'sku', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'amountCents', type: 'int' },
    { name: 'reason', type: ['null', 'string'], default: null },
  ],
} as const;

/** An order event. */
export type OrderEvent = InferAvro<typeof orderEventSchema>;

/** The serdes of both records, on one registry client. */
export function serdes(registry: SchemaRegistry) {
  return {
    placeOrder: registryAvro({ registry, schema: placeOrderSchema }),
    orderEvent: registryAvro({ registry, schema: orderEventSchema }),
  };
}
