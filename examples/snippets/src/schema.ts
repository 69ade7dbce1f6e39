// docs/schema.md quotes this file. Run it: npm run build && node examples/snippets/dist/schema.js
import { isRetriable } from '@cascade/core';
import {
  DeserializationError,
  type InferAvro,
  json,
  registryAvro,
  SchemaRegistry,
  string,
} from '@cascade/schema';

// 1. Declare the schema `as const`: the value type is inferred from it, no codegen.
const orderSchema = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'com.acme.orders',
  fields: [
    { name: 'orderId', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'total', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    { name: 'quantity', type: 'long' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    { name: 'coupon', type: ['null', 'string'], default: null },
  ],
} as const;

export type OrderPlaced = InferAvro<typeof orderSchema>;
// { orderId: string; placedAt: Date; total: string; quantity: bigint; status: 'NEW' | 'PAID'; coupon?: string | null }

export async function run(cluster: { brokers: string[]; registryUrl: string }): Promise<{
  subject: string;
  schemaId: number;
  decoded: OrderPlaced;
  avroBytes: number;
  jsonBytes: number;
  poisonPill: { reason: string; retriable: boolean };
}> {
  // 2. One registry client per registry, shared by every serde (caches and single flight are per client).
  const registry = new SchemaRegistry({ url: cluster.registryUrl });
  try {
    const serdes = { key: string(), value: registryAvro({ registry, schema: orderSchema }) };
    const topic = `orders-${Date.now()}`;
    const context = { topic, headers: {}, isKey: false };

    // 3. The first serialize registers the schema under `<topic>-value` (after a compatibility
    //    check); later ones encode from cache. Bytes: 0x00, 4-byte schema id, Avro body.
    const order: OrderPlaced = {
      orderId: '5f0c6f1e-8a3b-4c1d-9e2f-0123456789ab',
      placedAt: new Date('2026-11-23T10:15:30.123Z'),
      total: '1299.90',
      quantity: 9_007_199_254_740_993n, // > 2^53: exact, as a bigint
      status: 'PAID',
    };
    const bytes = await serdes.value.serialize(order, context);
    const decoded = await serdes.value.deserialize(bytes, context);

    // 4. A consumer tells a poison pill from an outage by a property, not by the message.
    let poisonPill = { reason: '', retriable: true };
    try {
      await serdes.value.deserialize(Buffer.from('{"orderId":"not avro"}'), {
        ...context,
        partition: 0,
        offset: '42',
      });
    } catch (error) {
      if (error instanceof DeserializationError)
        poisonPill = { reason: error.reason, retriable: isRetriable(error) };
    }

    const jsonSize = (await json().serialize({ ...order, quantity: order.quantity.toString() }, context))
      .length;
    return {
      subject: serdes.value.subjectFor(topic, false),
      schemaId: bytes.readInt32BE(1),
      decoded,
      avroBytes: bytes.length,
      jsonBytes: jsonSize,
      poisonPill,
    };
  } finally {
    await registry.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:28081/apis/ccompat/v7';
  console.log(await run({ brokers: [], registryUrl }));
}
