/**
 * `createAdmin()`: Cascade's admin client — topics (ensure with replication that fits the
 * cluster, describe, delete, offsets) and consumer groups (list, describe, committed offsets,
 * lag, delete). It runs on the connection config's transport like every other Cascade client,
 * and rejects only with Cascade errors.
 * @module
 */

import { ConfigError, Lifecycle, type LifecycleState, optionKeys, rejectUnknownKeys } from '@cascade/core';
import {
  type GroupDescription,
  type GroupListing,
  type KafkaConfig,
  type PartitionOffsets,
  resolveKafkaConfig,
  type TopicDescription,
  type TransportAdmin,
} from '@cascade/transport';
import { type ErrorSite, toProducerFailure } from './internal/error-mapping.js';
import { transportClientOf } from './internal/transport-client.js';
import {
  type EnsureTopicsResult,
  ensureTopicsOn,
  type TopicReplicationOptions,
  type TopicSpec,
} from './topics.js';

/** A partition of a consumer group: where the group is, where the log ends, and the gap. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (the next record it reads); `undefined` when none is committed. */
  readonly committed: string | undefined;
  /** The partition's high watermark. */
  readonly end: string;
  /** `end - committed` (from the partition's earliest offset when nothing is committed). */
  readonly lag: bigint;
}

export type { GroupDescription, GroupListing, PartitionOffsets, TopicDescription };

/** Cascade's admin client. Create it with {@link createAdmin}. */
export interface Admin extends AsyncDisposable {
  /** `idle` until the first call (or `start()`), then `running`; `stopped` after `close()`. */
  readonly state: LifecycleState;
  /** Connects (the first call does it too). */
  start(): Promise<void>;
  /** Disconnects. Idempotent. Calls after it reject with `ClosedError`. */
  close(): Promise<void>;
  /**
   * Creates the topics that are missing, with a replication factor of `min(3, brokers)` and
   * `min.insync.replicas` one less (at least 1) unless given, and waits for their leaders.
   */
  ensureTopics(
    topics: readonly TopicSpec[],
    options?: TopicReplicationOptions & { readonly timeoutMs?: number },
  ): Promise<EnsureTopicsResult>;
  listTopics(): Promise<string[]>;
  /** Partitions, leaders, replicas and in-sync replicas. Rejects with `UnknownTopicError` for a missing topic. */
  describeTopics(topics: readonly string[]): Promise<TopicDescription[]>;
  deleteTopics(topics: readonly string[], options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Each partition's earliest offset and high watermark. */
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  listGroups(): Promise<GroupListing[]>;
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  /** The lag of a group on each partition of `topics`. */
  groupLag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]>;
  /** Deletes groups that have no active member. */
  deleteGroups(groupIds: readonly string[]): Promise<void>;
}

/** Options of {@link createAdmin}. */
export interface AdminOptions {
  /** How to reach the cluster: the same `KafkaConfig` the producer, consumer and saga take. */
  readonly kafka: KafkaConfig;
}

/**
 * Creates an admin client on a connection config.
 *
 * @example
 * ```ts
 * await using admin = createAdmin({ kafka: { brokers: ['127.0.0.1:9092'] } });
 * await admin.ensureTopics([{ topic: 'orders', partitions: 6 }]);
 * console.log(await admin.groupLag('billing', ['orders']));
 * ```
 * @throws {ConfigError} for a bad connection config.
 */
export function createAdmin(options: AdminOptions): Admin {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('admin', 'expected { kafka: { brokers, ... } }.');
  }
  rejectUnknownKeys('admin', options, adminOptionKeys);
  return new CascadeAdmin(transportClientOf(resolveKafkaConfig(options.kafka, 'admin.kafka')).admin());
}

const adminOptionKeys = optionKeys<AdminOptions>({ kafka: true });

class CascadeAdmin implements Admin {
  readonly #admin: TransportAdmin;
  readonly #lifecycle = new Lifecycle('admin');

  constructor(admin: TransportAdmin) {
    this.#admin = admin;
  }

  get state(): LifecycleState {
    return this.#lifecycle.state;
  }

  start(): Promise<void> {
    return this.#lifecycle.start(async () => {
      try {
        await this.#admin.connect();
      } catch (error) {
        await this.#admin.disconnect().catch(() => undefined);
        throw toProducerFailure(error, { operation: 'Connecting the admin client' });
      }
    });
  }

  close(): Promise<void> {
    return this.#lifecycle.close(() => this.#admin.disconnect().catch(() => undefined));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #run<T>(site: ErrorSite, fn: (admin: TransportAdmin) => Promise<T>): Promise<T> {
    this.#lifecycle.assertUsable(site.operation);
    if (this.#lifecycle.state !== 'running') await this.start();
    try {
      return await fn(this.#admin);
    } catch (error) {
      throw toProducerFailure(error, site);
    }
  }

  ensureTopics(
    topics: readonly TopicSpec[],
    options: TopicReplicationOptions & { readonly timeoutMs?: number } = {},
  ): Promise<EnsureTopicsResult> {
    return this.#run({ operation: 'Ensuring topics' }, (admin) => ensureTopicsOn(admin, topics, options));
  }

  listTopics(): Promise<string[]> {
    return this.#run({ operation: 'Listing topics' }, (admin) => admin.listTopics());
  }

  describeTopics(topics: readonly string[]): Promise<TopicDescription[]> {
    return this.#run({ operation: `Describing topics ${topics.join(', ')}` }, (admin) =>
      admin.describeTopics(topics),
    );
  }

  deleteTopics(topics: readonly string[], options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return this.#run({ operation: `Deleting topics ${topics.join(', ')}` }, (admin) =>
      admin.deleteTopics(topics, { timeoutMs: options.timeoutMs ?? 30_000 }),
    );
  }

  topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    return this.#run({ operation: 'Fetching offsets', topic }, (admin) => admin.fetchTopicOffsets(topic));
  }

  listGroups(): Promise<GroupListing[]> {
    return this.#run({ operation: 'Listing groups' }, (admin) => admin.listGroups());
  }

  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return this.#run({ operation: `Describing groups ${groupIds.join(', ')}` }, (admin) =>
      admin.describeGroups(groupIds),
    );
  }

  groupLag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]> {
    return this.#run({ operation: `Fetching the lag of group ${groupId}` }, async (admin) => {
      const committed = await admin.fetchGroupOffsets(groupId, topics);
      const out: PartitionLag[] = [];
      for (const topic of topics) {
        for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
          const offset = committed.find((c) => c.topic === topic && c.partition === partition)?.offset;
          const at = offset === undefined || offset === '-1' ? undefined : offset;
          const from = BigInt(at ?? low);
          const lag = BigInt(high) - from;
          out.push({ topic, partition, committed: at, end: high, lag: lag < 0n ? 0n : lag });
        }
      }
      return out;
    });
  }

  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return this.#run({ operation: `Deleting groups ${groupIds.join(', ')}` }, (admin) =>
      admin.deleteGroups(groupIds),
    );
  }
}
