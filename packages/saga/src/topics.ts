/**
 * The topics of a saga deployment, and a helper that creates them. The inbox and the saga log
 * must have the same number of partitions: a saga id hashes to the same partition of each.
 * @module
 */

import { ConfigError, delay, requireInteger, requireNonEmptyString } from '@cascade/core';
import { createKafkaClient, type KafkaConfig } from '@cascade/producer';

/** Names of a saga deployment's topics. */
export interface SagaTopics {
  /** Begin requests, participant replies, timer firings and operator actions, keyed by saga id. */
  readonly inbox: string;
  /** The compacted saga log: the latest state of each saga, keyed by saga id. */
  readonly log: string;
  /** Where a participant's commands go. */
  commands(participant: string): string;
}

/**
 * Topic names under a prefix: `<prefix>.saga-inbox`, `<prefix>.saga-log`,
 * `<prefix>.<participant>.commands`.
 */
export function sagaTopics(prefix: string): SagaTopics {
  requireNonEmptyString('topics.prefix', prefix);
  return {
    inbox: `${prefix}.saga-inbox`,
    log: `${prefix}.saga-log`,
    commands: (participant) => `${prefix}.${participant}.commands`,
  };
}

/**
 * Creates the inbox, the compacted log and the participants' command topics when they do not
 * exist. Throws a `ConfigError` if an existing inbox and log differ in partition count.
 */
export async function ensureSagaTopics(
  kafka: KafkaConfig,
  topics: SagaTopics,
  options: {
    readonly partitions?: number;
    readonly participants?: readonly string[];
    readonly replicationFactor?: number;
  } = {},
): Promise<void> {
  const partitions = requireInteger('partitions', options.partitions ?? 6, 1);
  const admin = createKafkaClient(kafka).admin();
  await admin.connect();
  try {
    const all = [
      { topic: topics.inbox, numPartitions: partitions },
      {
        topic: topics.log,
        numPartitions: partitions,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'min.compaction.lag.ms', value: '60000' },
        ],
      },
      ...(options.participants ?? []).map((participant) => ({
        topic: topics.commands(participant),
        numPartitions: partitions,
      })),
    ];
    // A broker that has just started can create a topic and then, while its metadata catches
    // up, answer the wait for leaders with UNKNOWN_TOPIC_OR_PARTITION, which kafkajs does not
    // retry: list again and create what is still missing, a few times.
    for (let attempt = 1; ; attempt++) {
      const existing = new Set(await admin.listTopics());
      const wanted = all.filter(({ topic }) => !existing.has(topic));
      try {
        if (wanted.length > 0) {
          await admin.createTopics({
            topics: wanted.map((topic) => ({ ...topic, replicationFactor: options.replicationFactor ?? -1 })),
            waitForLeaders: true,
          });
        }
        break;
      } catch (error) {
        const { retriable, originalError } = error as {
          retriable?: unknown;
          originalError?: { retriable?: unknown };
        };
        if (!(retriable === true || originalError?.retriable === true) || attempt >= 5) throw error;
        await delay(200 * attempt);
      }
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topics.inbox, topics.log] });
    const counts = metadata.topics.map((topic) => topic.partitions.length);
    if (counts[0] !== counts[1]) {
      throw new ConfigError(
        'topics',
        `${topics.inbox} has ${counts[0]} partitions and ${topics.log} has ${counts[1]}; they must be equal.`,
      );
    }
  } finally {
    await admin.disconnect();
  }
}
