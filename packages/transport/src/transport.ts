/**
 * The seam under Cascade: what a Kafka client must do for the producer, the consumer, the saga
 * coordinator and the admin API to run on it. `@cascade/kafkajs` implements it on kafkajs; a
 * second client implements the same interfaces and is chosen with `KafkaConfig.transport`,
 * without a change to the packages above.
 *
 * Shapes are Cascade's own. The consumer's record and batch types are the fields Cascade reads
 * ({@link FetchedRecord}, {@link FetchedBatch}), so a client whose own objects carry them hands
 * them over as they are: no per-record allocation in the seam.
 * @module
 */

import type { ResolvedRetryPolicy } from '@cascade/core';
import type { ResolvedKafkaConfig } from './connection.js';
import type { TransportError } from './errors.js';
import type { ProduceBatch, ProduceResult } from './records.js';

/** A Kafka client Cascade runs on. Pass one as `KafkaConfig.transport`. */
export interface Transport {
  /** Shown in logs and errors: `kafkajs`. */
  readonly name: string;
  /** A client for one connection config. Cheap: creates no connection until one is asked for. */
  client(config: ResolvedKafkaConfig): TransportClient;
}

/** The producers, consumers and admin clients of one connection config. */
export interface TransportClient {
  readonly transport: Transport;
  producer(options: TransportProducerOptions): TransportProducer;
  consumer(options: TransportConsumerOptions): TransportConsumer;
  /** A reader of chosen partitions, without a consumer group (see {@link TransportPartitionReader}). */
  reader(): TransportPartitionReader;
  /** `retry` overrides the connection's request retries (the producer's metadata admin retries once). */
  admin(options?: { readonly retry?: ResolvedRetryPolicy }): TransportAdmin;
}

// ---------------------------------------------------------------------------------------------
// Producing

/** How a producer talks to the brokers; Cascade's accumulator does batching and retries on top. */
export interface TransportProducerOptions {
  readonly idempotent: boolean;
  readonly transactionalId?: string;
  readonly transactionTimeoutMs: number;
  readonly metadataMaxAgeMs: number;
  /**
   * Told the topics of a request the client had to send in more than one broker request (its
   * leader map knew a leader moved): Cascade's own leader map is stale and is refreshed.
   */
  readonly onLeadersMoved?: (topics: readonly string[]) => void;
}

/** One Produce request's settings. */
export interface ProduceOptions {
  readonly acks: -1 | 0 | 1;
  readonly timeoutMs: number;
  readonly compression: 'none' | 'gzip';
}

/**
 * Sends batches in one request and resolves with a result per batch. Rejects with the error when
 * no batch was stored, with {@link PartialProduceFailure} when some were: a batch reported stored
 * is never sent again. Errors are {@link TransportError}s.
 */
export type Produce = (
  batches: readonly ProduceBatch[],
  options: ProduceOptions,
) => Promise<readonly ProduceResult[]>;

/** A producer's connection. */
export interface TransportProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  readonly produce: Produce;
  /** Begins a transaction (initialising the transactional id on the first one). */
  transaction(): Promise<TransportTransaction>;
}

/** Offsets a transaction commits for a consumer group. */
export interface TransactionOffsetsRequest {
  readonly groupId: string;
  readonly topics: readonly {
    readonly topic: string;
    readonly partitions: readonly { readonly partition: number; readonly offset: string }[];
  }[];
}

/** An open transaction. */
export interface TransportTransaction {
  readonly produce: Produce;
  /** Adds consumer offsets to the transaction (retried while the coordinator moves). */
  sendOffsets(offsets: TransactionOffsetsRequest): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

// ---------------------------------------------------------------------------------------------
// Consuming

/** A fetched record: the fields Cascade reads. */
export interface FetchedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch ms, as a string. */
  readonly timestamp: string;
  readonly offset: string;
  readonly headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** The records of one partition from one fetch. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: string;
  readonly messages: readonly FetchedRecord[];
  /** The offset of the first record, or null when the batch is empty. */
  firstOffset(): string | null;
  /** The offset of the last record (the high watermark − 1 when empty). */
  lastOffset(): string;
}

/**
 * One batch handed to the consumer, with what it may do while handling it. Fetching the
 * partition again waits for the handler to return (back-pressure).
 */
export interface FetchedBatchPayload {
  readonly batch: FetchedBatch;
  /** Marks `offset` handled: after a rebalance or a stop, fetching resumes after it. */
  resolveOffset(offset: string): void;
  /** Heartbeats now (a no-op when one was sent recently). */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True once the batch's records were invalidated (a seek, or the partition was revoked). */
  isStale(): boolean;
  /** Pauses this batch's partition; the returned function resumes it. */
  pause(): () => void;
}

/** A member's assignment: partitions by topic. */
export type TopicAssignment = Readonly<Record<string, readonly number[]>>;

/** What the consumer learns from its group membership. */
export interface TransportConsumerEvents {
  /** This member joined (or rejoined) the group with `assignment`. */
  /**
   * This member joined (or rejoined) the group with `assignment`, as `memberId`: a member id
   * that changed means the member was out of the group in between (the group may have given its
   * partitions to another member meanwhile).
   */
  onJoin(assignment: TopicAssignment, memberId: string): void;
  /** The group started rebalancing. */
  onRebalancing(): void;
  /** The client's consumer failed; `restart` says whether it restarts on its own. */
  onCrash(error: TransportError, restart: boolean): void;
}

/** A topic-partition and an offset. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A group consumer's settings (Cascade's consumer options, resolved). */
export interface TransportConsumerOptions {
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly fetchMaxWaitMs: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly metadataMaxAgeMs: number;
  /** Read only committed records of transactions (read_committed). */
  readonly readCommitted: boolean;
  /** The member's rack (`client.rack`): fetch from a replica in it. */
  readonly rackId?: string;
  /**
   * The assignment strategies this member offers, in order of preference. `rack-aware` gives
   * each member the partitions with a replica in its rack (it needs `rackId`).
   * @default ['round-robin']
   */
  readonly assignors?: readonly PartitionAssignor[];
}

/** A partition assignment strategy every transport knows by name. */
export type PartitionAssignor = 'round-robin' | 'rack-aware';

/** A group consumer's connection. */
export interface TransportConsumer {
  connect(): Promise<void>;
  /** Leaves the group and disconnects. */
  disconnect(): Promise<void>;
  subscribe(topics: readonly string[], fromBeginning: boolean): Promise<void>;
  /**
   * Stops fetching: resolves once the running `eachBatch` calls returned and the member left the
   * group. `disconnect()` stops first when this was not called.
   */
  stop(): Promise<void>;
  /** Starts fetching; resolves once the fetch loop runs. */
  run(options: {
    readonly partitionsConcurrently: number;
    readonly eachBatch: (payload: FetchedBatchPayload) => Promise<void>;
    readonly events: TransportConsumerEvents;
  }): Promise<void>;
  /** The next fetch of the partition starts at `offset`. */
  seek(target: PartitionOffset): void;
  pause(partitions: readonly { readonly topic: string; readonly partitions: readonly number[] }[]): void;
  resume(partitions: readonly { readonly topic: string; readonly partitions: readonly number[] }[]): void;
  /** Commits offsets (the next offset to read) for the group. */
  commitOffsets(offsets: readonly PartitionOffset[]): Promise<void>;
  /**
   * The timestamp type of the record batch `record` came in (a record this consumer fetched):
   * `LogAppendTime` on a topic with `message.timestamp.type=LogAppendTime` (its `timestamp` is
   * then the broker's append time), else `CreateTime`. Asked only on the failure path (the
   * original of a retry or dead-letter record), so a client may look it up rather than store it
   * on every record.
   */
  timestampTypeOf(record: FetchedRecord): 'CreateTime' | 'LogAppendTime';
}

// ---------------------------------------------------------------------------------------------
// Reading partitions by hand

/** One fetch of partitions of a topic. */
export interface PartitionFetchRequest {
  readonly topic: string;
  /** The partitions, each with the first offset wanted. */
  readonly partitions: readonly { readonly partition: number; readonly offset: string }[];
  /** How long a broker may wait for a record when there is none yet. */
  readonly maxWaitMs: number;
  /** At most about this many bytes per partition (a first record batch larger than it still comes whole). */
  readonly maxBytes: number;
  /** Only records of committed transactions, and none at or past the last stable offset. */
  readonly readCommitted: boolean;
}

/** What one fetch found in one partition. */
export interface PartitionFetch {
  readonly partition: number;
  /** The records at or after the offset asked for, in offset order; no transaction markers. */
  readonly records: readonly FetchedRecord[];
  /**
   * Where to fetch next: past the records returned and past what was read and left out (aborted
   * transactions' records, transaction markers). Equal to the offset asked for when nothing was
   * read; an empty answer is not the end of the partition (compare with `highWatermark`).
   */
  readonly nextOffset: string;
  /** The partition's high watermark when the broker answered. */
  readonly highWatermark: string;
  /** The last stable offset when the broker answered (read_committed reads stop before it). */
  readonly lastStableOffset: string;
  /** The partition's earliest offset. */
  readonly logStartOffset: string;
}

/**
 * Reads partitions it is told, from offsets it is told, in no consumer group: no membership, no
 * committed offsets, nothing left on the brokers when it stops (the Java consumer's `assign()`).
 * The saga coordinator restores the log partitions of the inbox partitions it owns with one.
 */
export interface TransportPartitionReader {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /**
   * Fetches partitions from their leaders (one request per broker) and resolves with what each
   * partition had, in the order asked. A broker answers requests of one connection in order: a
   * fetch waiting for records (`maxWaitMs`) delays what the same reader asks next, so a reader
   * that waits for new records should do nothing else. Rejects with a {@link TransportError}:
   * `OFFSET_OUT_OF_RANGE` for an offset before the log start or past the end,
   * `UNKNOWN_TOPIC_OR_PARTITION` for a partition the cluster does not have. A moved leader is
   * found again before it rejects.
   * @param signal rejects the fetch with the signal's reason (the request itself may still end on
   *   the broker).
   */
  fetch(request: PartitionFetchRequest, signal?: AbortSignal): Promise<PartitionFetch[]>;
}

// ---------------------------------------------------------------------------------------------
// Admin

/** A partition as the cluster metadata describes it. */
export interface PartitionDescription {
  readonly partition: number;
  /** The leader's node id; -1 when the partition has none. */
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
}

/** A topic as the cluster metadata describes it. */
export interface TopicDescription {
  readonly name: string;
  readonly partitions: readonly PartitionDescription[];
}

/** A broker of the cluster. */
export interface BrokerDescription {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack?: string;
}

/** A topic to create. */
export interface NewTopic {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
}

/** A partition's earliest and next offsets. */
export interface PartitionOffsets {
  readonly partition: number;
  /** The earliest offset still in the log. */
  readonly low: string;
  /** The high watermark: the offset the next record will get. */
  readonly high: string;
}

/** A consumer group the cluster knows. */
export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
}

/** A consumer group's state and members. */
export interface GroupDescription {
  readonly groupId: string;
  /** `Stable`, `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Dead`. */
  readonly state: string;
  readonly protocol: string;
  readonly members: readonly {
    readonly memberId: string;
    readonly clientId: string;
    readonly clientHost: string;
  }[];
}

/** The cluster operations Cascade needs. Every method rejects with {@link TransportError}. */
export interface TransportAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  describeCluster(): Promise<{ readonly brokers: readonly BrokerDescription[]; readonly controller: number }>;
  listTopics(): Promise<string[]>;
  /** Rejects with an `UNKNOWN_TOPIC_OR_PARTITION` error when one of `topics` does not exist. */
  describeTopics(topics: readonly string[]): Promise<TopicDescription[]>;
  /** Creates the topics; a topic that exists already is not an error. */
  createTopics(topics: readonly NewTopic[], options: { readonly timeoutMs: number }): Promise<void>;
  deleteTopics(topics: readonly string[], options: { readonly timeoutMs: number }): Promise<void>;
  /** Topic configs by topic (only `names`, when given). */
  describeTopicConfigs(
    topics: readonly string[],
    names?: readonly string[],
  ): Promise<Map<string, Readonly<Record<string, string>>>>;
  fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Per partition, the first offset at or after `timestamp` (the high watermark when none). */
  fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<{ readonly partition: number; readonly offset: string }[]>;
  /** The group's committed offsets of `topics` (`-1` where none is committed). */
  fetchGroupOffsets(groupId: string, topics: readonly string[]): Promise<PartitionOffset[]>;
  listGroups(): Promise<GroupListing[]>;
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  /** Sets a group's committed offsets (the group must have no active member). */
  setGroupOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void>;
}
