// Starting a producer or a consumer on a three-node cluster: it must not depend on partitions it does not
// use (one offline partition elsewhere in the cluster), and a failed start (no broker reachable)
// must be retryable by connect() or a send, not leave the producer closed for good.
import { createConsumer } from '@cascade/consumer';
import { createProducer, KafkaConnectionError } from '@cascade/producer';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/kafka.js';
import { createTopics, readToHighWatermark, threeNodeCluster } from './producer-support.js';

const quickRetry = { initialIntervalMs: 100, maximumIntervalMs: 500, maximumAttempts: 3 };

describe('starting a producer or a consumer on three brokers', () => {
  const three = threeNodeCluster();

  it('starts, sends to and consumes its topics while a partition elsewhere in the cluster is offline', async () => {
    const offline = uniqueName('offline');
    const healthy = uniqueName('healthy');
    const transactions = uniqueName('healthy-tx');
    const lonely = three.cluster.nodes[2]?.nodeId ?? 3;
    await createTopics(three.kafka, [
      { topic: offline, replicaAssignment: [{ partition: 0, replicas: [lonely] }] },
      { topic: healthy, numPartitions: 2, replicationFactor: 3 },
      { topic: transactions, numPartitions: 1, replicationFactor: 3 },
    ]);
    await three.cluster.stopNode(2);
    try {
      await waitFor(
        async () => (await three.cluster.describePartition(offline, 0)).leader === undefined,
        () => `${offline} offline`,
        30_000,
        250,
      );
      for (const transactional of [false, true]) {
        const producer = createProducer({
          brokers: three.cluster.brokers,
          clientId: uniqueName('start'),
          value: string(),
          retry: quickRetry,
          ...(transactional ? { transactionalId: uniqueName('start-tx') } : {}),
        });
        try {
          await producer.connect();
          expect(producer.state).toBe('running');
          if (transactional) {
            const stored = await producer.transaction((tx) =>
              tx.send({ topic: transactions, value: 'in a transaction' }),
            );
            expect(stored.topic).toBe(transactions);
          } else {
            await producer.send({ topic: healthy, value: 'plain' });
          }
        } finally {
          await producer.close();
        }
      }
      const values = (await readToHighWatermark(three.kafka, healthy)).flat().map((r) => r.value);
      expect(values).toEqual(['plain']);
      // A consumer of the healthy topic starts too (its start lists the cluster's topics), at
      // least once and exactly once, and reads what was stored.
      for (const eos of [false, true]) {
        const seen: string[] = [];
        const consumer = createConsumer({
          kafka: {
            brokers: three.cluster.brokers,
            clientId: uniqueName('start-consumer'),
            retry: quickRetry,
          },
          groupId: uniqueName('start-group'),
          fromBeginning: true,
          ...(eos ? { eos: { transactionalIdPrefix: uniqueName('start-eos') } } : {}),
        });
        consumer.subscribe({
          topic: healthy,
          value: string(),
          tombstones: 'skip',
          handler: (m) => void seen.push(m.value),
        });
        try {
          await consumer.start();
          await waitFor(
            () => seen.length === 1,
            () => `the stored record read (eos: ${eos})`,
          );
          expect(seen).toEqual(['plain']);
        } finally {
          await consumer.stop();
        }
      }
    } finally {
      await three.cluster.startNode(2);
    }
  }, 180_000);

  it('starts again after a start that found no broker, by connect() or by a send', async () => {
    const topic = uniqueName('restart');
    await createTopics(three.kafka, [{ topic, numPartitions: 1, replicationFactor: 3 }]);
    const bootstrap = three.cluster.nodes[1]?.bootstrap as string;
    const producers = ['connect', 'send'].map((how) =>
      createProducer({ brokers: [bootstrap], clientId: uniqueName(how), value: string(), retry: quickRetry }),
    );
    const [byConnect, bySend] = producers as [(typeof producers)[0], (typeof producers)[0]];
    try {
      await three.cluster.stopNode(1);
      for (const producer of producers) {
        const error = await producer.connect().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(KafkaConnectionError);
        expect((error as KafkaConnectionError).code).toBe('CASCADE_PRODUCER_CONNECTION');
        expect((error as KafkaConnectionError).retriable).toBe(true);
        expect(producer.state).toBe('failed');
      }
      await three.cluster.startNode(1);
      await byConnect.connect();
      expect(byConnect.state).toBe('running');
      await byConnect.send({ topic, value: 'after connect()' });
      await bySend.send({ topic, value: 'after send()' });
      expect(bySend.state).toBe('running');
      const values = ((await readToHighWatermark(three.kafka, topic))[0] ?? []).map((r) => r.value);
      expect(values.sort()).toEqual(['after connect()', 'after send()']);
      await byConnect.close();
      await expect(byConnect.send({ topic, value: 'closed' })).rejects.toMatchObject({
        code: 'CASCADE_CLOSED',
      });
    } finally {
      await Promise.allSettled(producers.map((p) => p.close()));
      await three.cluster.startNode(1);
    }
  }, 180_000);
});
