/**
 * Creating a consumer's retry and dead-letter topics. The consumer never creates topics on use
 * (`start()` throws `MissingTopicsError` for a missing retry topic); deployments create them
 * ahead, and {@link ensureRetryTopics} does so with the names a subscription uses and a
 * replication that fits the cluster.
 * @module
 */

import { delay, requireInteger } from '@cascade/core';
import {
  type EnsureTopicsResult,
  ensureTopics,
  type KafkaConfig,
  type TopicReplicationOptions,
  type TopicSpec,
} from '@cascade/producer';
import { transportClientOf } from '@cascade/producer/internal';
import { MissingTopicsError, toConsumerError } from './errors.js';
import { dltNamer, retryTopicName } from './internal/subscription.js';
import type { DltOptions, RetryTopicsOptions } from './types.js';

/** The topics of {@link ensureRetryTopics}: as a subscription names them. */
export interface RetryTopicsSpec extends TopicReplicationOptions {
  /** The subscribed topics, which must exist. */
  readonly topics: readonly string[];
  /** The subscription's `retryTopics`. @default undefined (no retry topics) */
  readonly retryTopics?: RetryTopicsOptions;
  /** The subscription's `dlt`. @default { topic: 'dot' } */
  readonly dlt?: DltOptions | false;
  /** Partitions of each created topic. @default the partitions of the topic it derives from */
  readonly partitions?: number;
}

/**
 * The retry and dead-letter topic names of `spec` for each subscribed topic, without the
 * partition counts: `<topic>.retry.<n>` per delay, and the DLT the `dlt` option names.
 */
export function retryTopicNames(
  spec: Pick<RetryTopicsSpec, 'topics' | 'retryTopics' | 'dlt'>,
): Map<string, string[]> {
  const dltTopic = dltNamer(spec.dlt, 'dlt');
  const delays = spec.retryTopics?.delaysMs ?? [];
  const names = new Map<string, string[]>();
  for (const topic of spec.topics) {
    const derived = delays.map((_, i) => retryTopicName(topic, i + 1));
    if (dltTopic !== undefined) derived.push(dltTopic(topic));
    names.set(topic, derived);
  }
  return names;
}

/**
 * Creates the retry and dead-letter topics of a subscription that do not exist, each with the
 * partitions of the topic it derives from (unless `partitions` is given), a replication factor
 * of `min(3, brokers)` and `min.insync.replicas` one less (at least 1), unless given.
 * @throws {MissingTopicsError} when a subscribed topic does not exist (and `partitions` is not given).
 * @throws {ConsumerKafkaError} when the cluster's topics cannot be read.
 * @throws {ConfigError} for bad options.
 */
export async function ensureRetryTopics(
  kafka: KafkaConfig,
  spec: RetryTopicsSpec,
): Promise<EnsureTopicsResult> {
  const names = retryTopicNames(spec);
  let partitionsOf: (topic: string) => number;
  if (spec.partitions !== undefined) {
    const partitions = requireInteger('partitions', spec.partitions, 1);
    partitionsOf = () => partitions;
  } else {
    const admin = transportClientOf(kafka).admin();
    try {
      await admin.connect();
      try {
        // A topic created a moment ago may not be known yet to the broker asked (on a cluster of
        // several): asked again for about 2.5 s before it counts as missing.
        for (let attempt = 1; ; attempt++) {
          const existing = new Set(await admin.listTopics());
          const missing = spec.topics.filter((topic) => !existing.has(topic));
          if (missing.length === 0) break;
          if (attempt >= 6) throw new MissingTopicsError(missing);
          await delay(Math.min(100 * 2 ** (attempt - 1), 1_000));
        }
        const topics = await admin.describeTopics(spec.topics);
        const counts = new Map(topics.map((t) => [t.name, t.partitions.length]));
        partitionsOf = (topic) => counts.get(topic) ?? 1;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    } catch (error) {
      throw toConsumerError(error, 'ensure retry topics');
    }
  }
  const wanted: TopicSpec[] = [];
  const seen = new Set<string>();
  for (const [topic, derived] of names) {
    for (const name of derived) {
      if (seen.has(name)) continue; // one DLT for several topics
      seen.add(name);
      wanted.push({ topic: name, partitions: partitionsOf(topic) });
    }
  }
  return ensureTopics(kafka, wanted, {
    ...(spec.replicationFactor === undefined ? {} : { replicationFactor: spec.replicationFactor }),
    ...(spec.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: spec.minInsyncReplicas }),
  });
}
