// docs/transport.md and docs/kafkajs.md quote this file. Run in CI by test/docs/transport-example.test.ts.
import { randomUUID } from 'node:crypto';
import { createConsumer } from '@cascade/consumer';
import { kafkajsTransport } from '@cascade/kafkajs';
import { createAdmin, createProducer } from '@cascade/producer';
import { string } from '@cascade/schema';
import type { KafkaConfig } from '@cascade/transport';

/** One connection config, with its transport, given the same way to the admin, a producer and a consumer. */
export async function run(cluster: { brokers: string[] }): Promise<{
  transport: string;
  partitions: number;
  received: string[];
  lag: bigint;
}> {
  const kafka: KafkaConfig = {
    brokers: cluster.brokers,
    clientId: 'transport-example',
    transport: kafkajsTransport,
  };
  const topic = `invoices-${randomUUID().slice(0, 8)}`;
  const groupId = `billing-${topic}`;

  await using admin = createAdmin({ kafka });
  await admin.ensureTopics([{ topic, partitions: 2 }]);
  const [described] = await admin.describeTopics([topic]);

  await using producer = createProducer({ kafka, key: string(), value: string() });
  await producer.sendBatch([
    { topic, key: 'i-1', value: 'invoice 1' },
    { topic, key: 'i-2', value: 'invoice 2' },
  ]);

  const received: string[] = [];
  let done = (): void => {};
  const both = new Promise<void>((resolve) => {
    done = resolve;
  });
  await using consumer = createConsumer({ kafka, groupId, fromBeginning: true, commitIntervalMs: 100 });
  consumer.subscribe({
    topic,
    value: string(),
    tombstones: 'skip',
    handler: (message) => {
      received.push(message.value);
      if (received.length === 2) done();
    },
  });
  await consumer.start();
  await both;
  await consumer.close(); // commits what was handled

  const lag = (await admin.groupLag(groupId, [topic])).reduce((sum, p) => sum + p.lag, 0n);
  return {
    transport: kafka.transport?.name ?? '',
    partitions: described?.partitions.length ?? 0,
    received: received.sort(),
    lag,
  };
}
