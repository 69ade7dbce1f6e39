// docs/consumer.md quotes this file. Run it: npm run build && node examples/snippets/dist/consumer.js
import { randomUUID } from 'node:crypto';
import { createConsumer, type Message, SendToDlt } from '@cascade/consumer';
import { createAdmin, createProducer } from '@cascade/producer';
import { json, string } from '@cascade/schema';

interface Order {
  readonly id: string;
  readonly customer: string;
  readonly quantity: number;
}

/**
 * Bills orders with a key-mode consumer: valid orders are handled (in order per customer), an
 * invalid one goes to the dead-letter topic with Spring-compatible headers.
 */
export async function run(cluster: { brokers: string[]; registryUrl: string }): Promise<{
  billed: string[];
  deadLetters: Array<{ key: string; reason: string; originalOffset: string }>;
}> {
  const topic = `orders-${randomUUID().slice(0, 8)}`;
  await using admin = createAdmin({ kafka: { brokers: cluster.brokers } });
  await admin.ensureTopics([{ topic }, { topic: `${topic}.dlt` }]);

  await using producer = createProducer({
    kafka: { brokers: cluster.brokers },
    key: string(),
    value: json<Order>(),
  });
  for (const order of [
    { id: 'o-1', customer: 'c-1', quantity: 2 },
    { id: 'o-2', customer: 'c-2', quantity: 0 },
    { id: 'o-3', customer: 'c-1', quantity: 1 },
  ]) {
    await producer.send({ topic, key: order.customer, value: order });
  }

  const billed: string[] = [];
  const deadLetters: Array<{ key: string; reason: string; originalOffset: string }> = [];
  let done = (): void => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const check = (): void => {
    if (billed.length === 2 && deadLetters.length === 1) done();
  };

  // The consumer: types come from the serdes, so `message.value` is an Order.
  await using consumer = createConsumer({
    kafka: { brokers: cluster.brokers, clientId: 'billing' },
    groupId: `billing-${topic}`,
    fromBeginning: true,
  });
  consumer.subscribe({
    topic,
    key: string(),
    value: json<Order>(),
    tombstones: 'skip', // no null values here: message.value is an Order, never null
    concurrency: 'key', // in order per customer, customers in parallel
    retry: { maximumAttempts: 3, initialIntervalMs: 100 }, // then <topic>.dlt
    handler: async (message: Message<string, Order>) => {
      if (message.value.quantity <= 0) throw new SendToDlt('quantity must be positive');
      billed.push(message.value.id);
      check();
    },
  });

  // Whoever reads the DLT sees why, where from, and after how many attempts.
  await using dltReader = createConsumer({
    kafka: { brokers: cluster.brokers, clientId: 'dlt-reader' },
    groupId: `dlt-${topic}`,
    fromBeginning: true,
  });
  dltReader.subscribe({
    topic: `${topic}.dlt`,
    value: json<Order>(),
    dlt: false,
    handler: (message) => {
      deadLetters.push({
        key: message.key ?? '',
        reason: String(message.headers['kafka_dlt-exception-message']),
        originalOffset: String(message.headers['cascade-dlt-original-offset']),
      });
      check();
    },
  });

  await Promise.all([consumer.start(), dltReader.start()]);
  await finished;
  return { billed, deadLetters };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  console.log(await run({ brokers, registryUrl: process.env.SCHEMA_REGISTRY_URL ?? '' }));
}
