/**
 * The topics of a saga deployment, and a helper that creates them. The inbox and the saga log
 * must have the same number of partitions: a saga id hashes to the same partition of each.
 * @module
 */

import { ConfigError, delay, requireInteger, requireNonEmptyString } from '@cascade/core';
import { ensureTopics, type KafkaConfig, type TopicReplicationOptions } from '@cascade/producer';
import { toProducerFailure, transportClientOf } from '@cascade/producer/internal';
import { isTransportError } from '@cascade/transport';

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
 * exist, with a replication factor of `min(3, brokers)` and `min.insync.replicas` one less (at
 * least 1) unless given (`ensureTopics` of `@cascade/producer`). Throws a `ConfigError` if an
 * existing inbox and log differ in partition count.
 */
export async function ensureSagaTopics(
  kafka: KafkaConfig,
  topics: SagaTopics,
  options: TopicReplicationOptions & {
    readonly partitions?: number;
    readonly participants?: readonly string[];
  } = {},
): Promise<void> {
  const partitions = requireInteger('partitions', options.partitions ?? 6, 1);
  await ensureTopics(
    kafka,
    [
      { topic: topics.inbox, partitions },
      {
        topic: topics.log,
        partitions,
        configs: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' },
      },
      ...(options.participants ?? []).map((participant) => ({
        topic: topics.commands(participant),
        partitions,
      })),
    ],
    {
      ...(options.replicationFactor === undefined ? {} : { replicationFactor: options.replicationFactor }),
      ...(options.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: options.minInsyncReplicas }),
    },
  );
  const admin = transportClientOf(kafka).admin();
  try {
    await admin.connect();
    // A broker other than the controller may not know a topic created a moment ago: asked
    // again for a few seconds before that is an error.
    let described: Awaited<ReturnType<typeof admin.describeTopics>>;
    for (let attempt = 1; ; attempt++) {
      try {
        described = await admin.describeTopics([topics.inbox, topics.log]);
        break;
      } catch (error) {
        if (attempt >= 20 || !isTransportError(error) || !error.retriable) throw error;
        await delay(Math.min(50 * attempt, 500));
      }
    }
    const counts = described.map((topic) => topic.partitions.length);
    if (counts[0] !== counts[1]) {
      throw new ConfigError(
        'topics',
        `${topics.inbox} has ${counts[0]} partitions and ${topics.log} has ${counts[1]}; they must be equal.`,
      );
    }
  } catch (error) {
    throw toProducerFailure(error, { operation: 'Checking the saga topics' });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** What the coordinator last learnt of a topic it writes to. */
interface TopicFacts {
  readonly exists: boolean;
  /** The largest record batch the topic accepts (`max.message.bytes`), when it exists. */
  readonly maxMessageBytes: number;
  readonly checkedAt: number;
}

/**
 * What a record adds to its bytes on the wire, at most: the record batch header (61 bytes), the
 * record's own framing (under 30) and the `traceparent` header the consumer carries on (under 100).
 */
export const recordOverheadBytes = 256;

/**
 * The topics the coordinator writes to in its transactions (the participants' command topics and
 * the saga log), whether each exists and how large a record it takes. A record the broker would
 * refuse for good (a deleted topic, a record over `max.message.bytes`) fails the whole
 * transaction of its inbox partition, and the batch is read again — forever. The coordinator asks
 * here first, and makes such a record its own saga's failure instead.
 *
 * Facts come from one metadata and one configuration request: at start, after a transaction of
 * the partition aborted (`refresh()`), and, for a topic that looked unfit, before it is declared
 * so (`recheck()`, at most every `recheckMs`): a topic created or changed since is noticed.
 */
export class TopicCatalog {
  readonly #kafka: KafkaConfig;
  readonly #topics: readonly string[];
  readonly #recheckMs: number;
  readonly #facts = new Map<string, TopicFacts>();
  #refreshing: Promise<void> | undefined;

  constructor(kafka: KafkaConfig, topics: Iterable<string>, options: { readonly recheckMs?: number } = {}) {
    this.#kafka = kafka;
    this.#topics = [...new Set(topics)];
    this.#recheckMs = options.recheckMs ?? 1_000;
  }

  /** Looks at every topic again. Concurrent callers share one look. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#look(this.#topics).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Looks at `topic` again, unless it was looked at less than `recheckMs` ago (or `force`). */
  async recheck(topic: string, options: { readonly force?: boolean } = {}): Promise<void> {
    const known = this.#facts.get(topic);
    if (options.force !== true && known !== undefined && Date.now() - known.checkedAt < this.#recheckMs)
      return;
    await this.#look([topic]);
  }

  /** The topics known not to exist, of `topics`. */
  missing(topics: Iterable<string>): string[] {
    return [...topics].filter((topic) => this.#facts.get(topic)?.exists === false);
  }

  /**
   * Why a record of `bytes` bytes (key and value) cannot go to `topic`, if it cannot, by what was
   * last learnt; `undefined` when it can, or when nothing is known of the topic.
   */
  problem(topic: string, bytes: number): string | undefined {
    const facts = this.#facts.get(topic);
    if (facts === undefined) return undefined;
    if (!facts.exists) return `topic ${topic} does not exist`;
    if (bytes + recordOverheadBytes > facts.maxMessageBytes) {
      return `a record of ${bytes} bytes (plus up to ${recordOverheadBytes} of framing) is larger than topic ${topic} accepts (max.message.bytes ${facts.maxMessageBytes})`;
    }
    return undefined;
  }

  async #look(topics: readonly string[]): Promise<void> {
    if (topics.length === 0) return;
    const admin = transportClientOf(this.#kafka).admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const present = topics.filter((topic) => existing.has(topic));
      const limits = new Map<string, number>();
      if (present.length > 0) {
        const described = await admin.describeTopicConfigs(present, ['max.message.bytes']);
        for (const [name, configs] of described) {
          const limit = Number(configs['max.message.bytes']);
          if (Number.isFinite(limit) && limit > 0) limits.set(name, limit);
        }
      }
      const checkedAt = Date.now();
      for (const topic of topics) {
        this.#facts.set(topic, {
          exists: existing.has(topic),
          maxMessageBytes: limits.get(topic) ?? Number.POSITIVE_INFINITY,
          checkedAt,
        });
      }
    } finally {
      await admin.disconnect();
    }
  }
}
