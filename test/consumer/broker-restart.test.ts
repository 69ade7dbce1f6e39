// A broker restart in the middle of consumption, on a broker of our own: every record is still
// handled (at least once) and the group commits to the end once the broker is back.
import { createConsumer } from '@cascade/consumer';
import { json } from '@cascade/schema';
import { startCluster } from '@cascade/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce } from './helpers.js';

describe('broker restart', () => {
  it('handles every record and commits to the end across a broker stop and start mid-consumption', async () => {
    await using own = await startCluster({ mode: 'jvm', registry: false });
    const kafka = new Kafka({ brokers: own.brokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName('restart');
    const groupId = uniqueName('group');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const total = 600;
    await produce(
      kafka,
      topic,
      Array.from({ length: total }, (_, i) => ({ key: `k${i % 10}`, value: String(i) })),
    );
    const counts = new Map<number, number>();
    const consumer = createConsumer({
      kafka: {
        brokers: own.brokers,
        retry: { maximumAttempts: 0, initialIntervalMs: 200, maximumIntervalMs: 2_000 },
      },
      groupId,
      fromBeginning: true,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      commitIntervalMs: 100,
    });
    consumer.subscribe({
      topic,
      value: json<number>(),
      tombstones: 'skip',
      handler: async (m) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        counts.set(m.value, (counts.get(m.value) ?? 0) + 1);
      },
    });
    await consumer.start();
    await waitFor(
      () => counts.size >= 100,
      () => `100 records before the restart, got ${counts.size}`,
    );
    await own.stopBroker();
    const handledWhileDown = counts.size;
    await own.startBroker();
    await waitFor(
      () => counts.size >= total,
      () => `${total} distinct records after the restart, got ${counts.size}`,
      90_000,
    );
    await consumer.stop();
    expect(handledWhileDown).toBeLessThan(total);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    const offsets = await committed(kafka, groupId, topic);
    expect(Object.values(offsets).reduce((n, o) => n + Number(o), 0)).toBe(total);
  });
});
