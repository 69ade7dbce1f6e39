// docs/producer.md quotes this file. Run it: npm run build && node examples/snippets/dist/producer.js
import { randomUUID } from 'node:crypto';
import { isRetriable } from '@cascade/core';
import {
  createAdmin,
  createProducer,
  metricsInterceptor,
  Partitioners,
  producerTraceInterceptor,
  type RecordMetadata,
} from '@cascade/producer';
import { json, string } from '@cascade/schema';

interface Order {
  readonly id: string;
  readonly customer: string;
  readonly total: number;
}

/** Sends orders three ways (one by one, as a batch, in a transaction) and reports what happened. */
export async function run(cluster: { brokers: string[]; registryUrl: string }): Promise<{
  first: RecordMetadata;
  batchOffsets: string[];
  committed: number;
  acknowledged: number;
}> {
  const topic = `orders-${randomUUID().slice(0, 8)}`;
  await using admin = createAdmin({ kafka: { brokers: cluster.brokers } });
  await admin.ensureTopics([{ topic, partitions: 3 }]);

  // Types come from the serdes: Producer<string, Order>.
  const metrics = metricsInterceptor<string, Order>();
  await using producer = createProducer({
    kafka: { brokers: cluster.brokers, clientId: 'orders-service' },
    key: string(),
    value: json<Order>(),
    defaultTopic: topic,
    lingerMs: 5,
    interceptors: [producerTraceInterceptor(), metrics],
  });

  // One record: resolves once the broker stored it (acks = all, idempotent).
  const order: Order = { id: 'o-1', customer: 'c-42', total: 99.5 };
  const first = await producer.send({ key: order.id, value: order, headers: { source: 'example' } });

  // Concurrent sends share produce requests; each promise gets its own offset.
  const batch = await producer.sendBatch(
    Array.from({ length: 10 }, (_, i) => ({ key: 'o-2', value: { id: 'o-2', customer: 'c-7', total: i } })),
  );

  // A transaction: everything or nothing becomes visible to read_committed consumers.
  await using transactional = createProducer({
    kafka: { brokers: cluster.brokers },
    value: json<Order>(),
    transactionalId: `orders-example-${randomUUID().slice(0, 8)}`,
    partitioner: Partitioners.keyField((o: Order) => o.customer),
  });
  let committed = 0;
  try {
    await transactional.transaction(async (tx) => {
      await tx.send({ topic, value: { id: 'o-3', customer: 'c-1', total: 10 } });
      await tx.send({ topic, value: { id: 'o-4', customer: 'c-1', total: 20 } });
    });
    committed = 2;
  } catch (error) {
    // Typed errors: retry what is retriable, dead-letter the rest.
    if (!isRetriable(error)) throw error;
  }

  await producer.flush();
  return {
    first,
    batchOffsets: batch.map((m) => m.offset),
    committed,
    acknowledged: metrics.snapshot().total.acknowledged,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await run({
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    registryUrl: process.env.SCHEMA_REGISTRY_URL ?? '',
  });
  console.log(JSON.stringify(result, null, 2));
}
