/**
 * The seam's partition reader on kafkajs: Fetch requests sent to a partition's leader on a
 * cluster of kafkajs' own (kafkajs' consumer cannot be assigned partitions by hand, and its
 * cluster is how its producer and consumer reach brokers too). kafkajs decodes the response; the
 * records of aborted transactions and the transaction markers are left out here, as kafkajs'
 * consumer leaves them out (`filterAbortedMessages`).
 * @module
 */

import type {
  FetchedRecord,
  PartitionFetch,
  PartitionFetchRequest,
  TransportPartitionReader,
} from '@cascade/transport';
import { TransportError } from '@cascade/transport';
import type { Kafka } from 'kafkajs';
import { toTransportError, transportName } from './errors.js';
import { loadKafkajsModule } from './patches.js';

/** What the reader uses of kafkajs' `Cluster`. */
interface ClusterLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<BrokerLike>;
}

interface BrokerLike {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: RawPartition[] }[] }>;
}

interface RawMessage extends FetchedRecord {
  readonly isControlRecord?: boolean;
  readonly batchContext?: { readonly producerId?: string; readonly inTransaction?: boolean };
}

interface RawPartition {
  readonly partition: number;
  readonly highWatermark: string;
  readonly lastStableOffset: string;
  /** kafkajs' name for `log_start_offset` (Fetch v5 and later). */
  readonly lastStartOffset?: string;
  readonly logStartOffset?: string;
  readonly abortedTransactions?: readonly { producerId: string; firstOffset: string }[];
  readonly messages: readonly RawMessage[];
}

type FilterAborted = (args: {
  messages: readonly RawMessage[];
  abortedTransactions?: readonly { producerId: string; firstOffset: string }[];
}) => RawMessage[];

const readCommittedLevel = 1;
const readUncommittedLevel = 0;

/** Finds kafkajs' private cluster factory on a `Kafka` instance (a symbol kafkajs does not export). */
function clusterFactoryOf(kafka: Kafka): ((options: object) => ClusterLike) | undefined {
  for (const symbol of Object.getOwnPropertySymbols(kafka)) {
    if (symbol.description === 'private:Kafka:createCluster') {
      const factory = (kafka as unknown as Record<symbol, unknown>)[symbol];
      if (typeof factory === 'function') return factory as (options: object) => ClusterLike;
    }
  }
  return undefined;
}

/** Kafka protocol errors after which the leader is looked up again and the fetch retried once. */
const leaderMoved = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
]);

/** A partition reader on a kafkajs client. */
export function kafkajsPartitionReader(kafka: Kafka): TransportPartitionReader {
  const factory = clusterFactoryOf(kafka);
  const filterAborted = loadKafkajsModule<FilterAborted>('consumer/filterAbortedMessages.js');
  if (factory === undefined || filterAborted === undefined) {
    throw new TransportError(
      'this kafkajs has no cluster factory or aborted-record filter where 2.2.4 has them: it cannot read partitions by hand',
      { kind: 'unknown', retriable: false, transport: transportName },
    );
  }
  const cluster = factory({ allowAutoTopicCreation: false });
  const topics = new Set<string>();

  /** What the broker answered for one partition. */
  const toFetch = (partition: number, offset: string, raw: RawPartition | undefined): PartitionFetch => {
    if (raw === undefined) {
      return {
        partition,
        records: [],
        nextOffset: offset,
        highWatermark: offset,
        lastStableOffset: offset,
        logStartOffset: '0',
      };
    }
    const from = BigInt(offset);
    // A compressed batch can start before the offset asked for.
    const within = raw.messages.filter((m) => BigInt(m.offset) >= from);
    const last = within.at(-1);
    const next = last === undefined ? from : BigInt(last.offset) + 1n;
    const records = filterAborted({
      messages: within,
      ...(raw.abortedTransactions === undefined ? {} : { abortedTransactions: raw.abortedTransactions }),
    }).filter((m) => m.isControlRecord !== true);
    return {
      partition,
      records,
      nextOffset: next.toString(),
      highWatermark: raw.highWatermark,
      lastStableOffset: raw.lastStableOffset,
      logStartOffset: raw.logStartOffset ?? raw.lastStartOffset ?? '0',
    };
  };

  const fetchOnce = async (request: PartitionFetchRequest): Promise<PartitionFetch[]> => {
    const { topic } = request;
    if (!topics.has(topic)) {
      await cluster.addTargetTopic(topic);
      topics.add(topic);
    }
    const wanted = request.partitions.map((p) => p.partition);
    const leaders = cluster.findLeaderForPartitions(topic, wanted);
    const led = new Set(Object.values(leaders).flat());
    const missing = wanted.find((partition) => !led.has(partition));
    if (missing !== undefined) {
      throw new TransportError(`partition ${missing} of ${topic} does not exist`, {
        kind: 'protocol',
        kafkaType: 'UNKNOWN_TOPIC_OR_PARTITION',
        retriable: false,
        transport: transportName,
      });
    }
    const offsets = new Map(request.partitions.map((p) => [p.partition, p.offset]));
    const answered = new Map<number, RawPartition>();
    await Promise.all(
      Object.entries(leaders).map(async ([nodeId, partitions]) => {
        const broker = await cluster.findBroker({ nodeId });
        const response = await broker.fetch({
          replicaId: -1,
          isolationLevel: request.readCommitted ? readCommittedLevel : readUncommittedLevel,
          maxWaitTime: request.maxWaitMs,
          minBytes: 1,
          maxBytes: request.maxBytes * partitions.length,
          topics: [
            {
              topic,
              partitions: partitions.map((partition) => ({
                partition,
                fetchOffset: offsets.get(partition) ?? '0',
                maxBytes: request.maxBytes,
              })),
            },
          ],
        });
        for (const raw of response.responses.find((t) => t.topicName === topic)?.partitions ?? [])
          answered.set(raw.partition, raw);
      }),
    );
    return request.partitions.map(({ partition, offset }) =>
      toFetch(partition, offset, answered.get(partition)),
    );
  };

  // A moved leader (or one not elected yet) or a lost connection: metadata again, then the
  // fetch again, a few times over about two seconds.
  const fetch = async (request: PartitionFetchRequest): Promise<PartitionFetch[]> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetchOnce(request);
      } catch (error) {
        const failure = toTransportError(error);
        const moved =
          (failure.kafkaType !== undefined && leaderMoved.has(failure.kafkaType)) ||
          failure.kind === 'connection' ||
          failure.kind === 'metadata';
        if (!moved || attempt >= 6) throw failure;
        await cluster.refreshMetadata().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  };

  return {
    async connect() {
      try {
        await cluster.connect();
      } catch (error) {
        throw toTransportError(error);
      }
    },
    async disconnect() {
      try {
        await cluster.disconnect();
      } catch (error) {
        throw toTransportError(error);
      }
    },
    async fetch(request, signal) {
      if (signal === undefined) {
        try {
          return await fetch(request);
        } catch (error) {
          throw toTransportError(error);
        }
      }
      signal.throwIfAborted();
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const fetched = fetch(request);
      try {
        return await Promise.race([fetched, aborted]);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw toTransportError(error);
      } finally {
        if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
        fetched.catch(() => undefined);
      }
    },
  };
}
