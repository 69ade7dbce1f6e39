// min.insync.replicas on a three-node cluster (RF 3, min ISR 2): with two brokers down, an
// acks=all send fails after deliveryTimeoutMs with the typed, retriable NotEnoughReplicasError
// (or waits, given a longer delivery timeout) and succeeds once the brokers are back; nothing is
// lost or stored twice.
import { isRetriable } from '@cascade/core';
import { createProducer, NotEnoughReplicasError } from '@cascade/producer';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/kafka.js';
import { createTopics, readToHighWatermark, threeNodeCluster } from './producer-support.js';

describe('min.insync.replicas on three brokers', () => {
  const three = threeNodeCluster();

  it('fails acks=all sends with a retriable NotEnoughReplicasError while two brokers are down, and stores them once after recovery', async () => {
    const topic = uniqueName('min-isr');
    await createTopics(three.kafka, [{ topic, numPartitions: 1, replicationFactor: 3 }]);
    const options = {
      brokers: three.cluster.brokers,
      value: string(),
      requestTimeoutMs: 3_000,
      retry: { initialIntervalMs: 100, maximumIntervalMs: 1_000 },
    };
    const failing = createProducer({ ...options, clientId: uniqueName('failing'), deliveryTimeoutMs: 8_000 });
    const waiting = createProducer({
      ...options,
      clientId: uniqueName('waiting'),
      deliveryTimeoutMs: 120_000,
    });
    const leader = await three.cluster.leaderOf(topic, 0);
    const others = three.cluster.nodes.map((n) => n.index).filter((i) => i !== leader);
    try {
      await Promise.all([failing, waiting].map((p) => p.send({ topic, value: 'before' })));
      // One by one, gracefully: each leaves the ISR while the quorum still has a majority.
      for (const node of others) await three.cluster.stopNode(node);
      await waitFor(
        async () => (await three.cluster.describePartition(topic, 0)).isr.length === 1,
        () => `the ISR of ${topic} shrunk to its leader`,
        30_000,
        250,
      );

      const startedAt = Date.now();
      const error = await failing.send({ topic, value: 'refused' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      const failedAfterMs = Date.now() - startedAt;
      expect(error).toBeInstanceOf(NotEnoughReplicasError);
      expect((error as NotEnoughReplicasError).code).toBe('CASCADE_PRODUCER_NOT_ENOUGH_REPLICAS');
      expect((error as NotEnoughReplicasError).retriable).toBe(true);
      expect(isRetriable(error)).toBe(true);
      expect((error as NotEnoughReplicasError).kafkaType).toBe('NOT_ENOUGH_REPLICAS');
      expect((error as NotEnoughReplicasError).topic).toBe(topic);
      expect((error as Error).message).toContain('deliveryTimeoutMs (8000 ms)');
      expect(failedAfterMs).toBeGreaterThanOrEqual(7_500);

      // A longer delivery timeout waits through the outage.
      let waited: { offset: string } | undefined;
      const waits = waiting.send({ topic, value: 'waited' }).then((m) => {
        waited = m;
      });
      await waitFor(
        () => waiting.stats.retries > 0,
        () => 'the waiting send retried',
        30_000,
      );
      expect(waited).toBeUndefined();
      await Promise.all(others.map((node) => three.cluster.startNode(node)));
      await waits;
      const after = await failing.send({ topic, value: 'after' });

      const log = (await readToHighWatermark(three.kafka, topic))[0] ?? [];
      expect(log.map((r) => r.value).sort()).toEqual(['after', 'before', 'before', 'waited']);
      expect(log.find((r) => r.value === 'waited')?.offset).toBe(waited?.offset);
      expect(log.find((r) => r.value === 'after')?.offset).toBe(after.offset);
      // biome-ignore lint/suspicious/noConsole: the figures of the run are its report.
      console.info('min ISR:', JSON.stringify({ failedAfterMs, retries: waiting.stats.retries }));
    } finally {
      await Promise.allSettled([failing.close(), waiting.close()]);
      await Promise.all(three.cluster.nodes.map((n) => three.cluster.startNode(n.index)));
    }
  }, 240_000);
});
