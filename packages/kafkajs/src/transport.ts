/**
 * {@link kafkajsTransport}: Cascade's seam (`@cascade/transport`) on kafkajs 2.2.4. Producers,
 * consumers and admin clients of one connection config share one kafkajs client; every method
 * rejects with a `TransportError` (`errors.ts`).
 * @module
 */

import type { ResolvedRetryPolicy } from '@cascade/core';
import type {
  BrokerDescription,
  GroupDescription,
  PartitionOffset,
  ResolvedKafkaConfig,
  TopicDescription,
  Transport,
  TransportAdmin,
  TransportClient,
  TransportConsumer,
  TransportConsumerOptions,
  TransportPartitionReader,
  TransportProducer,
  TransportProducerOptions,
  TransportTransaction,
} from '@cascade/transport';
import type { Admin, Kafka, Message, Transaction } from 'kafkajs';
import { createKafkaClient, toKafkajsRetry, toTransactionalKafkajsRetry } from './client.js';
import { kafkajsConsumer } from './consumer.js';
import { transportCall, transportName } from './errors.js';
import { kafkajsProduce } from './produce.js';
import { kafkajsPartitionReader } from './reader.js';

/** kafkajs partitioner that keeps the partition Cascade chose. */
const explicitPartitioner = () => (args: { message: Message }) => args.message.partition ?? 0;

/** The kafkajs transport. The default of `KafkaConfig.transport`. */
export const kafkajsTransport: Transport = Object.freeze({
  name: transportName,
  client(config: ResolvedKafkaConfig): TransportClient {
    return new KafkajsClient(config);
  },
});

class KafkajsClient implements TransportClient {
  readonly transport = kafkajsTransport;
  readonly #config: ResolvedKafkaConfig;
  #kafka: Kafka | undefined;

  constructor(config: ResolvedKafkaConfig) {
    this.#config = config;
  }

  get #client(): Kafka {
    this.#kafka ??= createKafkaClient(this.#config);
    return this.#kafka;
  }

  producer(options: TransportProducerOptions): TransportProducer {
    const retry =
      options.transactionalId === undefined
        ? toKafkajsRetry(this.#config.retry)
        : toTransactionalKafkajsRetry(this.#config.retry);
    const producer = this.#client.producer({
      createPartitioner: explicitPartitioner,
      idempotent: options.idempotent,
      ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId }),
      transactionTimeout: options.transactionTimeoutMs,
      allowAutoTopicCreation: false,
      metadataMaxAge: options.metadataMaxAgeMs,
      // kafkajs refuses an idempotent producer without retries; Cascade's accumulator retries on top.
      retry: { ...retry, retries: Math.max(1, retry.retries) },
    });
    const { onLeadersMoved } = options;
    return {
      connect: () => transportCall(() => producer.connect()),
      disconnect: () => transportCall(() => producer.disconnect()),
      produce: kafkajsProduce(() => producer, onLeadersMoved),
      async transaction(): Promise<TransportTransaction> {
        const tx = await transportCall(() => producer.transaction());
        return kafkajsTransaction(tx, onLeadersMoved);
      },
    };
  }

  consumer(options: TransportConsumerOptions): TransportConsumer {
    return kafkajsConsumer(this.#client, options);
  }

  reader(): TransportPartitionReader {
    return kafkajsPartitionReader(this.#client);
  }

  admin(options: { readonly retry?: ResolvedRetryPolicy } = {}): TransportAdmin {
    const admin = this.#client.admin(
      options.retry === undefined ? {} : { retry: toKafkajsRetry(options.retry) },
    );
    return kafkajsAdmin(admin);
  }
}

function kafkajsTransaction(
  tx: Transaction,
  onLeadersMoved: ((topics: readonly string[]) => void) | undefined,
): TransportTransaction {
  return {
    produce: kafkajsProduce(() => tx, onLeadersMoved),
    sendOffsets: (offsets) =>
      transportCall(() =>
        tx.sendOffsets({
          consumerGroupId: offsets.groupId,
          topics: offsets.topics.map((t) => ({
            topic: t.topic,
            partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })),
          })),
        }),
      ),
    commit: () => transportCall(() => tx.commit()),
    abort: () => transportCall(() => tx.abort()),
    isActive: () => tx.isActive(),
  };
}

/** `describeConfigs`' resource type of a topic. */
const topicResource = 2;

function kafkajsAdmin(admin: Admin): TransportAdmin {
  return {
    connect: () => transportCall(() => admin.connect()),
    disconnect: () => transportCall(() => admin.disconnect()),
    describeCluster: () =>
      transportCall(async () => {
        const { brokers, controller } = await admin.describeCluster();
        return {
          brokers: brokers.map((b): BrokerDescription => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
          controller: controller ?? -1,
        };
      }),
    listTopics: () => transportCall(() => admin.listTopics()),
    describeTopics: (topics) =>
      transportCall(async () => {
        const { topics: found } = await admin.fetchTopicMetadata({ topics: [...topics] });
        return found.map(
          (t): TopicDescription => ({
            name: t.name,
            partitions: t.partitions
              .map((p) => ({
                partition: p.partitionId,
                leader: p.leader,
                replicas: p.replicas,
                isr: p.isr,
                offlineReplicas: p.offlineReplicas ?? [],
              }))
              .sort((a, b) => a.partition - b.partition),
          }),
        );
      }),
    createTopics: (topics, { timeoutMs }) =>
      transportCall(async () => {
        await admin.createTopics({
          waitForLeaders: false,
          timeout: timeoutMs,
          topics: topics.map((t) => ({
            topic: t.topic,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor,
            configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
          })),
        });
      }),
    deleteTopics: (topics, { timeoutMs }) =>
      transportCall(() => admin.deleteTopics({ topics: [...topics], timeout: timeoutMs })),
    describeTopicConfigs: (topics, names) =>
      transportCall(async () => {
        const described = await admin.describeConfigs({
          resources: topics.map((name) => ({
            type: topicResource,
            name,
            ...(names === undefined ? {} : { configNames: [...names] }),
          })),
          includeSynonyms: false,
        });
        const out = new Map<string, Readonly<Record<string, string>>>();
        for (const resource of described.resources) {
          const entries: Record<string, string> = {};
          for (const entry of resource.configEntries) entries[entry.configName] = entry.configValue;
          out.set(resource.resourceName, entries);
        }
        return out;
      }),
    fetchTopicOffsets: (topic) =>
      transportCall(async () =>
        (await admin.fetchTopicOffsets(topic))
          .map((p) => ({ partition: p.partition, low: p.low, high: p.high }))
          .sort((a, b) => a.partition - b.partition),
      ),
    fetchTopicOffsetsByTimestamp: (topic, timestamp) =>
      transportCall(async () =>
        (await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).map((p) => ({
          partition: p.partition,
          offset: p.offset,
        })),
      ),
    fetchGroupOffsets: (groupId, topics) =>
      transportCall(async () => {
        const found = await admin.fetchOffsets({ groupId, topics: [...topics] });
        const out: PartitionOffset[] = [];
        for (const t of found) {
          for (const p of t.partitions)
            out.push({ topic: t.topic, partition: p.partition, offset: p.offset });
        }
        return out;
      }),
    listGroups: () =>
      transportCall(async () =>
        (await admin.listGroups()).groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })),
      ),
    describeGroups: (groupIds) =>
      transportCall(async () =>
        (await admin.describeGroups([...groupIds])).groups.map(
          (g): GroupDescription => ({
            groupId: g.groupId,
            state: g.state,
            protocol: g.protocol,
            members: g.members.map((m) => ({
              memberId: m.memberId,
              clientId: m.clientId,
              clientHost: m.clientHost,
            })),
          }),
        ),
      ),
    deleteGroups: (groupIds) =>
      transportCall(async () => {
        await admin.deleteGroups([...groupIds]);
      }),
    setGroupOffsets: (groupId, offsets) =>
      transportCall(async () => {
        const byTopic = new Map<string, { partition: number; offset: string }[]>();
        for (const o of offsets) {
          const list = byTopic.get(o.topic) ?? [];
          list.push({ partition: o.partition, offset: o.offset });
          byTopic.set(o.topic, list);
        }
        for (const [topic, partitions] of byTopic) await admin.setOffsets({ groupId, topic, partitions });
      }),
  };
}
