/**
 * `npm run demo`: starts a real local Kafka and schema registry (or uses KAFKA_BROKERS /
 * SCHEMA_REGISTRY_URL), sends a record through a fresh topic, reads it back, checks the registry
 * answers, and stops everything. Exits 0 only if the record came back intact.
 *
 * The order / inventory / payment demo replaces this once the producer, consumer and saga
 * packages land.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@cascade/core';
import { startCluster } from '@cascade/testkit';
import { Kafka, logLevel } from 'kafkajs';

const started = Date.now();
const say = (message: string): void => {
  console.log(`[demo +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
};

async function main(): Promise<boolean> {
  say('Starting Kafka and the schema registry (first run downloads them from Maven Central)...');
  const logger = createLogger((level, message, meta) => say(`${level}: ${message} ${JSON.stringify(meta)}`), {
    level: 'info',
  });
  await using cluster = await startCluster({ logger });
  say(`Cluster up (${cluster.mode}): Kafka ${cluster.brokers.join(',')}, registry ${cluster.registryUrl}`);

  const kafka = new Kafka({ brokers: cluster.brokers, clientId: 'cascade-demo', logLevel: logLevel.NOTHING });
  const topic = `demo-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();

  const sent = { key: 'order-1', value: JSON.stringify({ orderId: 'order-1', amountCents: 4_200 }) };
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const [metadata] = await producer.send({ topic, acks: -1, messages: [sent] });
  await producer.disconnect();
  say(`Sent ${sent.value} to ${topic} partition ${metadata?.partition} offset ${metadata?.baseOffset}`);

  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const received = await new Promise<{ key: string; value: string }>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        resolve({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
      },
    });
  });
  await consumer.disconnect();
  say(`Read back key=${received.key} value=${received.value}`);

  const subjects = await fetch(`${cluster.registryUrl}/subjects`);
  say(`Registry answered GET /subjects with ${subjects.status}`);

  const ok = received.key === sent.key && received.value === sent.value && subjects.ok;
  say(ok ? 'Round trip OK. Stopping the cluster.' : 'Round trip FAILED.');
  return ok;
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (error: unknown) => {
    console.error('Demo failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
