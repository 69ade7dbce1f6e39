// A three-node cluster in three racks: replicated topics survive the loss of a partition's leader,
// the restarted node comes back into the ISR, and the testkit names leaders and coordinators right.
import { ConfigError } from '@cascade/core';
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import { type Cluster, fetchMetadata, startCluster, UnsupportedOperationError } from '@cascade/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicsAndWait, uniqueName, waitFor } from '../support/kafka.js';

/** Kafka's `Utils.abs(key.hashCode()) % partitions`: the internal-topic partition a key maps to. */
function javaPartitionFor(key: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  return (hash === -2_147_483_648 ? 0 : Math.abs(hash)) % partitions;
}

describe('a three-node cluster with racks', () => {
  let cluster: Cluster;
  let kafka: Kafka;

  beforeAll(async () => {
    cluster = await startCluster({ mode: 'jvm', nodes: 3, racks: ['r1', 'r2', 'r3'], registry: false });
    patchKafkajsNegativeTimeout();
    kafka = new Kafka({
      brokers: cluster.brokers,
      clientId: uniqueName('three'),
      logLevel: logLevel.NOTHING,
    });
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts three voters in racks r1 to r3 with RF 3, min ISR 2 and the rack-aware replica selector', async () => {
    expect(cluster.mode).toBe('jvm');
    expect(cluster.brokers).toHaveLength(3);
    expect(
      cluster.nodes.map(({ index, nodeId, rack, running }) => ({ index, nodeId, rack, running })),
    ).toEqual([
      { index: 0, nodeId: 1, rack: 'r1', running: true },
      { index: 1, nodeId: 2, rack: 'r2', running: true },
      { index: 2, nodeId: 3, rack: 'r3', running: true },
    ]);
    expect(cluster.startup.nodeMs).toHaveLength(3);
    expect(cluster.startup.kafkaMs).toBeGreaterThanOrEqual(Math.max(...cluster.startup.nodeMs));

    const [host = '', lastPort = ''] = (cluster.brokers[2] ?? '').split(':');
    const metadata = await fetchMetadata(host, Number(lastPort), 5_000, []);
    expect(
      [...metadata.brokers]
        .sort((a, b) => a.nodeId - b.nodeId)
        .map(({ nodeId, port, rack }) => ({ nodeId, port, rack })),
    ).toEqual(
      cluster.nodes.map((node) => ({
        nodeId: node.nodeId,
        port: Number(node.bootstrap.split(':')[1]),
        rack: node.rack,
      })),
    );

    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          {
            type: 4, // BROKER
            name: '2',
            configNames: [
              'default.replication.factor',
              'min.insync.replicas',
              'offsets.topic.replication.factor',
              'transaction.state.log.replication.factor',
              'transaction.state.log.min.isr',
              'replica.selector.class',
              'broker.rack',
            ],
          },
        ],
      });
      const values = Object.fromEntries(
        (resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]),
      );
      expect(values).toEqual({
        'default.replication.factor': '3',
        'min.insync.replicas': '2',
        'offsets.topic.replication.factor': '3',
        'transaction.state.log.replication.factor': '3',
        'transaction.state.log.min.isr': '2',
        'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
        'broker.rack': 'r2',
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('elects a new leader when the leader is killed, takes acks=-1 writes, and takes the node back into the ISR', async () => {
    const topic = uniqueName('three-nodes');
    // No replication factor given: the cluster's default, 3.
    await createTopicsAndWait(kafka, [{ topic }]);
    await waitFor(
      async () => (await cluster.describePartition(topic, 0)).isr.length === 3,
      () => `all three replicas of ${topic}-0 in sync`,
    );
    const before = await cluster.describePartition(topic, 0);
    expect([...before.replicas].sort()).toEqual([0, 1, 2]);
    expect(before.leader).toBe(before.replicas[0]);

    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'before-kill' }] });

      const leader = await cluster.leaderOf(topic, 0);
      expect(leader).toBe(before.leader);
      await cluster.killNode(leader);
      expect(cluster.nodes[leader]?.running).toBe(false);

      let successor = leader;
      await waitFor(
        async () => {
          successor = await cluster.leaderOf(topic, 0);
          return successor !== leader;
        },
        () => `a new leader of ${topic}-0 after node ${leader} was killed`,
      );
      expect([0, 1, 2].filter((index) => index !== leader)).toContain(successor);
      const during = await cluster.describePartition(topic, 0);
      expect(during.isr).not.toContain(leader);
      expect(during.isr).toHaveLength(2);

      // Two in-sync replicas meet min.insync.replicas=2: a fully acknowledged write succeeds.
      const [written] = await producer.send({ topic, acks: -1, messages: [{ value: 'after-kill' }] });
      expect(written?.errorCode).toBe(0);

      await cluster.startNode(leader);
      expect(cluster.nodes[leader]?.running).toBe(true);
      await waitFor(
        async () => (await cluster.describePartition(topic, 0)).isr.includes(leader),
        () => `node ${leader} back in the ISR of ${topic}-0`,
        60_000,
        200,
      );
    } finally {
      await producer.disconnect();
    }

    const offsets = await (async () => {
      const reader = kafka.admin();
      await reader.connect();
      try {
        return await reader.fetchTopicOffsets(topic);
      } finally {
        await reader.disconnect();
      }
    })();
    expect(offsets).toEqual([expect.objectContaining({ partition: 0, low: '0', high: '2' })]);
  });

  it('moves leadership off a node stopped gracefully, and keeps every record through a whole-cluster stop and start', async () => {
    const topic = uniqueName('three-stop');
    await createTopicsAndWait(kafka, [{ topic }]);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'first' }] });
      const leader = await cluster.leaderOf(topic, 0);
      await cluster.stopNode(leader);
      expect(cluster.nodes[leader]?.running).toBe(false);
      // A controlled shutdown hands leadership over before the JVM exits: no waiting for the
      // 3 s broker session to expire, as after a kill.
      await waitFor(
        async () => (await cluster.leaderOf(topic, 0)) !== leader,
        () => `a new leader of ${topic}-0 as soon as node ${leader} stopped`,
        2_000,
      );
      await producer.send({ topic, acks: -1, messages: [{ value: 'second' }] });
      await cluster.startNode(leader);
    } finally {
      await producer.disconnect();
    }

    await cluster.stopBroker();
    expect(cluster.nodes.some((node) => node.running)).toBe(false);
    await cluster.startBroker();
    expect(cluster.nodes.every((node) => node.running)).toBe(true);

    const reader = kafka.admin();
    await reader.connect();
    try {
      let high = '';
      await waitFor(
        async () => {
          high = (await reader.fetchTopicOffsets(topic).catch(() => []))[0]?.high ?? '';
          return high === '2';
        },
        () => `both records of ${topic} after the restart (high watermark ${high})`,
      );
    } finally {
      await reader.disconnect();
    }
  });

  it('names the group and transaction coordinators as the leaders of their internal partitions', async () => {
    const group = uniqueName('three-group');
    const transactionalId = uniqueName('three-tx');

    const groupCoordinator = await cluster.coordinatorOf('group', group);
    expect(groupCoordinator).toBe(await cluster.leaderOf('__consumer_offsets', javaPartitionFor(group, 10)));

    // A transaction commits at RF 3 / min ISR 2, and its coordinator is where the testkit says.
    const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const topic = uniqueName('three-tx-topic');
      await createTopicsAndWait(kafka, [{ topic }]);
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ value: 'in-a-transaction' }] });
      await transaction.commit();
    } finally {
      await producer.disconnect();
    }
    const transactionCoordinator = await cluster.coordinatorOf('transaction', transactionalId);
    expect(transactionCoordinator).toBe(
      await cluster.leaderOf('__transaction_state', javaPartitionFor(transactionalId, 10)),
    );
    const offsetsTopic = await cluster.describePartition('__consumer_offsets', 0);
    expect([...offsetsTopic.replicas].sort()).toEqual([0, 1, 2]);
    const stateTopic = await cluster.describePartition('__transaction_state', 0);
    expect([...stateTopic.replicas].sort()).toEqual([0, 1, 2]);
  });

  it('refuses a node index it does not have, naming the field', async () => {
    const error = await cluster.killNode(3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CASCADE_CONFIG');
    expect((error as ConfigError).field).toBe('index');
    expect(cluster.nodes.every((node) => node.running)).toBe(true);
  });
});

describe('node operations on a cluster not started here', () => {
  it('are refused with UnsupportedOperationError, and the cluster lists no nodes', async () => {
    await using external = await startCluster({ registry: false, env: { KAFKA_BROKERS: '127.0.0.1:9' } });
    expect(external.mode).toBe('external');
    expect(external.nodes).toEqual([]);
    for (const operation of [
      () => external.killNode(0),
      () => external.stopNode(0),
      () => external.startNode(0),
      () => external.leaderOf('orders', 0),
      () => external.describePartition('orders', 0),
      () => external.coordinatorOf('group', 'orders'),
    ]) {
      const error = await operation().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedOperationError);
      expect((error as UnsupportedOperationError).code).toBe('CASCADE_TESTKIT_UNSUPPORTED');
    }
  });
});
