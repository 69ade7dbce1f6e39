// Helpers of the producer's failover tests: a raw kafkajs client on a three-node cluster, topics
// with chosen replicas and configs, and reading a topic back to its high watermark.
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import { type Cluster, startCluster } from '@cascade/testkit';
import { type ITopicConfig, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { createTopicsAndWait, uniqueName } from '../support/kafka.js';

/** A file's three-node cluster and a raw kafkajs client on it; set once its `beforeAll` ran. */
export interface ThreeNodes {
  readonly cluster: Cluster;
  readonly kafka: Kafka;
}

/**
 * Starts a three-node cluster (RF 3, min ISR 2, racks r1-r3) before the tests of the file that
 * calls it (at its top level or in a `describe`) and stops it after them.
 */
export function threeNodeCluster(): ThreeNodes {
  const three = {} as { cluster: Cluster; kafka: Kafka };
  beforeAll(async () => {
    three.cluster = await startCluster({ mode: 'jvm', nodes: 3, racks: ['r1', 'r2', 'r3'], registry: false });
    three.kafka = rawKafka(three.cluster.brokers);
  }, 240_000);
  afterAll(async () => {
    await three.cluster?.stop();
  });
  return three;
}

/** A raw kafkajs client on `brokers`, logging off. */
export function rawKafka(brokers: readonly string[], clientId = uniqueName('failover')): Kafka {
  patchKafkajsNegativeTimeout();
  return new Kafka({ brokers: [...brokers], clientId, logLevel: logLevel.NOTHING });
}

/**
 * Creates topics and waits until the metadata names a leader for each partition (kafkajs' own
 * `waitForLeaders` gives up when a broker of three does not know a new topic yet).
 */
export async function createTopics(kafka: Kafka, topics: ITopicConfig[]): Promise<void> {
  await createTopicsAndWait(kafka, topics);
}

/** One stored record. */
export interface StoredRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
}

/**
 * Every record of `topic` up to each partition's high watermark at the time of the call, by
 * partition, in offset order. Reads with a consumer group of its own.
 */
export async function readToHighWatermark(kafka: Kafka, topic: string): Promise<StoredRecord[][]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; high: string; low: string }[];
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const byPartition: StoredRecord[][] = [];
  for (const end of ends) byPartition[end.partition] = [];
  const remaining = new Set(ends.filter((e) => e.high !== e.low).map((e) => e.partition));
  if (remaining.size === 0) return byPartition;
  const high = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const consumer = kafka.consumer({ groupId: uniqueName('read-back'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch }) => {
            const list = byPartition[batch.partition] as StoredRecord[];
            const last = high.get(batch.partition) ?? 0n;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= last) break;
              list.push({
                partition: batch.partition,
                offset: m.offset,
                key: m.key?.toString() ?? null,
                value: m.value?.toString() ?? null,
              });
            }
            const lastSeen = list[list.length - 1];
            if (lastSeen !== undefined && BigInt(lastSeen.offset) + 1n >= last) {
              remaining.delete(batch.partition);
              if (remaining.size === 0) resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return byPartition;
}

/**
 * Every committed record of a topic that transactions write to, by partition, in offset order
 * (read_committed). The high watermark of such a topic counts commit markers, so it cannot tell
 * where the records end: a sentinel record is appended to each partition first (outside any
 * transaction, after the writers finished) and each partition is read up to its sentinel, which
 * a read_committed reader sees only once every transaction before it has ended.
 */
export async function readCommitted(kafka: Kafka, topic: string): Promise<StoredRecord[][]> {
  const admin = kafka.admin();
  await admin.connect();
  let partitions: number[];
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    partitions = (topics[0]?.partitions ?? []).map((p) => p.partitionId);
  } finally {
    await admin.disconnect();
  }
  const sentinel = `\u0000end-${uniqueName('sentinel')}`;
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: partitions.map((partition) => ({ partition, key: sentinel, value: null })),
    });
  } finally {
    await producer.disconnect();
  }
  const byPartition: StoredRecord[][] = partitions.map(() => []);
  const remaining = new Set(partitions);
  const consumer = kafka.consumer({ groupId: uniqueName('read-committed'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            if (!remaining.has(partition)) return;
            if (message.key?.toString() === sentinel) {
              remaining.delete(partition);
              if (remaining.size === 0) resolve();
              return;
            }
            (byPartition[partition] as StoredRecord[]).push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
            });
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return byPartition;
}
