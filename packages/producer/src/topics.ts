/**
 * Creating topics with replication that fits the cluster. Cascade creates topics in one place
 * (this module): the saga topics (`ensureSagaTopics`), a consumer's retry and dead-letter topics
 * (`ensureRetryTopics`), and an application's own through {@link ensureTopics}. Each gets a
 * replication factor of `min(3, brokers)` and `min.insync.replicas` of `replication factor - 1`
 * (at least 1), both set explicitly on the topic so the broker's defaults (often 1 and 1) never
 * decide durability by accident, and both overridable.
 * @module
 */

import { ConfigError, delay, requireInteger, requireNonEmptyString, TimeoutError } from '@cascade/core';
import type { KafkaConfig, TransportAdmin } from '@cascade/transport';
import { toProducerFailure } from './internal/error-mapping.js';
import { transportClientOf } from './internal/transport-client.js';

/** One topic to create when it is missing. */
export interface TopicSpec {
  readonly topic: string;
  /** @default 1 */
  readonly partitions?: number;
  /** Topic configs (`cleanup.policy`, `retention.ms`, ...). `min.insync.replicas` here wins. */
  readonly configs?: Readonly<Record<string, string>>;
}

/** Replication of the topics {@link ensureTopics} creates. */
export interface TopicReplicationOptions {
  /** @default min(3, brokers in the cluster) */
  readonly replicationFactor?: number;
  /** @default replicationFactor - 1, at least 1 */
  readonly minInsyncReplicas?: number;
}

/** The replication a new topic gets on a cluster of `brokers` brokers. */
export interface TopicReplication {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

/**
 * The replication factor and `min.insync.replicas` for a new topic on a cluster of `brokers`:
 * `min(3, brokers)` and one less (at least 1), unless given.
 * @throws {ConfigError} when a given value is not a positive integer, the replication factor
 *   exceeds the brokers, or `minInsyncReplicas` exceeds the replication factor.
 */
export function topicReplication(brokers: number, options: TopicReplicationOptions = {}): TopicReplication {
  requireInteger('brokers', brokers, 1);
  const replicationFactor = requireInteger(
    'replicationFactor',
    options.replicationFactor ?? Math.min(3, brokers),
    1,
  );
  if (replicationFactor > brokers) {
    throw new ConfigError(
      'replicationFactor',
      `must be at most the number of brokers in the cluster (${brokers}), got ${replicationFactor}`,
    );
  }
  const minInsyncReplicas = requireInteger(
    'minInsyncReplicas',
    options.minInsyncReplicas ?? Math.max(1, replicationFactor - 1),
    1,
  );
  if (minInsyncReplicas > replicationFactor) {
    throw new ConfigError(
      'minInsyncReplicas',
      `must be at most the replication factor (${replicationFactor}), got ${minInsyncReplicas}: no write could succeed`,
    );
  }
  return { replicationFactor, minInsyncReplicas };
}

/** What {@link ensureTopics} did. */
export interface EnsureTopicsResult {
  /** The topics it created (the others existed). */
  readonly created: readonly string[];
  /** The replication the created topics got. */
  readonly replication: TopicReplication;
}

/**
 * Creates the topics of `topics` that do not exist, with {@link topicReplication} for the
 * cluster, and resolves once the metadata names a leader for every partition of each. Topics
 * that exist are left as they are (their partitions and configs are not checked here).
 * @throws {ConfigError} for a bad name, partition count or replication option.
 * @throws {TimeoutError} when a partition has no leader within `timeoutMs` (default 30000).
 */
export async function ensureTopics(
  kafka: KafkaConfig,
  topics: readonly TopicSpec[],
  options: TopicReplicationOptions & { readonly timeoutMs?: number } = {},
): Promise<EnsureTopicsResult> {
  const admin = transportClientOf(kafka).admin();
  try {
    await admin.connect();
    return await ensureTopicsOn(admin, topics, options);
  } catch (error) {
    throw toProducerFailure(error, { operation: 'Ensuring topics' });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** {@link ensureTopics} on a connected admin client. @internal */
export async function ensureTopicsOn(
  admin: TransportAdmin,
  topics: readonly TopicSpec[],
  options: TopicReplicationOptions & { readonly timeoutMs?: number } = {},
): Promise<EnsureTopicsResult> {
  const specs = topics.map((spec, i) => ({
    topic: requireNonEmptyString(`topics[${i}].topic`, spec.topic),
    numPartitions: requireInteger(`topics[${i}].partitions`, spec.partitions ?? 1, 1),
    configs: spec.configs ?? {},
  }));
  const timeoutMs = requireInteger('timeoutMs', options.timeoutMs ?? 30_000, 1);
  try {
    const { brokers } = await admin.describeCluster();
    const replication = topicReplication(brokers.length, options);
    const created: string[] = [];
    // A broker that has just started can create a topic and then, while its metadata catches up,
    // answer with UNKNOWN_TOPIC_OR_PARTITION: list again and create what is still missing.
    for (let attempt = 1; ; attempt++) {
      const existing = new Set(await admin.listTopics());
      const wanted = specs.filter(({ topic }) => !existing.has(topic));
      try {
        if (wanted.length > 0) {
          await admin.createTopics(
            wanted.map(({ topic, numPartitions, configs }) => ({
              topic,
              partitions: numPartitions,
              replicationFactor: replication.replicationFactor,
              configs: { 'min.insync.replicas': String(replication.minInsyncReplicas), ...configs },
            })),
            { timeoutMs },
          );
          created.push(...wanted.map(({ topic }) => topic));
        }
        break;
      } catch (error) {
        if (!(error as { retriable?: unknown }).retriable || attempt >= 5) throw error;
        await delay(200 * attempt);
      }
    }
    await waitForLeaders(
      admin,
      specs.map(({ topic }) => topic),
      timeoutMs,
    );
    return { created, replication };
  } catch (error) {
    throw toProducerFailure(error, { operation: `Ensuring topics ${specs.map((s) => s.topic).join(', ')}` });
  }
}

/** Polls the metadata until every partition of `names` has a leader. */
async function waitForLeaders(
  admin: TransportAdmin,
  names: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no metadata yet';
  for (;;) {
    try {
      const topics = await admin.describeTopics(names);
      if (
        topics.length === names.length &&
        topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      ) {
        return;
      }
      last = JSON.stringify(topics.map((t) => [t.name, t.partitions.map((p) => p.leader)]));
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new TimeoutError(
        `Waiting for a leader of every partition of ${names.join(', ')} (last metadata: ${last})`,
        timeoutMs,
      );
    }
    await delay(100);
  }
}
