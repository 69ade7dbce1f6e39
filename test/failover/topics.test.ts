// The topics Cascade creates get a replication that fits the cluster: on three brokers a
// replication factor of 3 and min.insync.replicas 2, set on the topic itself; overridable, and
// refused when the cluster cannot hold it.
import { ensureRetryTopics } from '@cascade/consumer';
import { ConfigError } from '@cascade/core';
import { ensureTopics } from '@cascade/producer';
import { ensureSagaTopics, sagaTopics } from '@cascade/saga';
import { ConfigResourceTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../support/kafka.js';
import { createTopics, threeNodeCluster } from './producer-support.js';

describe('topics Cascade creates on three brokers', () => {
  const three = threeNodeCluster();

  /** Each topic's replication factor (of partition 0), min.insync.replicas and partitions. */
  async function replication(topics: string[]): Promise<Record<string, [number, string, number]>> {
    const admin = three.kafka.admin();
    await admin.connect();
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['min.insync.replicas'],
        })),
      });
      return Object.fromEntries(
        topics.map((name) => {
          const partitions = metadata.find((t) => t.name === name)?.partitions ?? [];
          const minIsr = resources
            .find((r) => r.resourceName === name)
            ?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue;
          return [name, [partitions[0]?.replicas.length ?? 0, minIsr ?? '?', partitions.length]];
        }),
      );
    } finally {
      await admin.disconnect();
    }
  }

  it('creates saga, retry, dead-letter and application topics at RF 3 and min ISR 2, leaving existing ones alone', async () => {
    const connection = { brokers: three.cluster.brokers, clientId: uniqueName('topics') };
    const saga = sagaTopics(uniqueName('topics'));
    await ensureSagaTopics(connection, saga, { partitions: 2, participants: ['inventory'] });
    const orders = uniqueName('orders');
    await createTopics(three.kafka, [{ topic: orders, numPartitions: 4, replicationFactor: 1 }]);
    const retries = await ensureRetryTopics(connection, {
      topics: [orders],
      retryTopics: { delaysMs: [1_000] },
    });
    expect(retries.created).toEqual([`${orders}.retry.1`, `${orders}.dlt`]);
    const own = uniqueName('own');
    const result = await ensureTopics(connection, [{ topic: own, partitions: 3 }, { topic: orders }]);
    expect(result).toEqual({ created: [own], replication: { replicationFactor: 3, minInsyncReplicas: 2 } });

    expect(
      await replication([
        saga.inbox,
        saga.log,
        saga.commands('inventory'),
        `${orders}.retry.1`,
        `${orders}.dlt`,
        own,
        orders,
      ]),
    ).toEqual({
      [saga.inbox]: [3, '2', 2],
      [saga.log]: [3, '2', 2],
      [saga.commands('inventory')]: [3, '2', 2],
      // Retry topics take the partitions of the topic they derive from.
      [`${orders}.retry.1`]: [3, '2', 4],
      [`${orders}.dlt`]: [3, '2', 4],
      [own]: [3, '2', 3],
      // Existing: untouched (the broker's default min ISR, 2 in the testkit's cluster).
      [orders]: [1, '2', 4],
    });
  });

  it('takes overrides, and refuses a replication the cluster cannot hold before creating anything', async () => {
    const connection = { brokers: three.cluster.brokers, clientId: uniqueName('topics') };
    const two = uniqueName('two');
    await ensureTopics(connection, [{ topic: two }], { replicationFactor: 2 });
    const strict = uniqueName('strict');
    await ensureTopics(connection, [{ topic: strict }], { minInsyncReplicas: 3 });
    expect(await replication([two, strict])).toEqual({ [two]: [2, '1', 1], [strict]: [3, '3', 1] });

    const refused = uniqueName('refused');
    await expect(
      ensureTopics(connection, [{ topic: refused }], { replicationFactor: 4 }),
    ).rejects.toBeInstanceOf(ConfigError);
    const admin = three.kafka.admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(refused);
    } finally {
      await admin.disconnect();
    }
  });
});
