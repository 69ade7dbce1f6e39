/**
 * Topic metadata the producer needs before it can place a record: partition counts and
 * leaders. Cached; refreshed after `metadataMaxAgeMs` or after a failed request.
 * @module
 */

import { AbortedError, delay, type Logger } from '@cascade/core';
import type { TransportAdmin } from '@cascade/transport';
import { type ProducerError, UnknownTopicError } from '../errors.js';
import { toProducerError } from './error-mapping.js';

/** What the producer knows of a topic. */
export interface TopicInfo {
  readonly partitionCount: number;
  /** Leader broker id by partition. */
  readonly leaders: readonly number[];
  readonly fetchedAt: number;
}

export class TopicMetadata {
  readonly #admin: TransportAdmin;
  readonly #maxAgeMs: number;
  readonly #maxBlockMs: number;
  readonly #logger: Logger;
  readonly #topics = new Map<string, TopicInfo>();
  readonly #loading = new Map<string, Promise<TopicInfo>>();

  constructor(admin: TransportAdmin, maxAgeMs: number, maxBlockMs: number, logger: Logger) {
    this.#admin = admin;
    this.#maxAgeMs = maxAgeMs;
    this.#maxBlockMs = maxBlockMs;
    this.#logger = logger;
  }

  /** The cached metadata of `topic`, or undefined. Starts a background refresh when stale. */
  get(topic: string): TopicInfo | undefined {
    const info = this.#topics.get(topic);
    if (info !== undefined && Date.now() - info.fetchedAt > this.#maxAgeMs) this.refresh(topic);
    return info;
  }

  /** The leader of a partition, when known. */
  leaderOf(topic: string, partition: number): number | undefined {
    return this.#topics.get(topic)?.leaders[partition];
  }

  /** Refreshes in the background (errors are logged). */
  refresh(topic: string): void {
    this.#fetch(topic).catch((error: unknown) =>
      this.#logger.debug('Topic metadata refresh failed', { topic, error: (error as Error).message }),
    );
  }

  /**
   * Loads the metadata of `topic`. A topic no broker lists fails at once with
   * {@link UnknownTopicError} (the cluster does not create topics on use, so waiting would only
   * delay the error); a listed topic whose metadata is not ready yet (being created, a leader
   * being elected) is waited for up to `maxBlockMs`.
   */
  async load(topic: string, signal?: AbortSignal): Promise<TopicInfo> {
    const cached = this.#topics.get(topic);
    if (cached !== undefined) return cached;
    const deadline = Date.now() + this.#maxBlockMs;
    let wait = 50;
    for (;;) {
      try {
        return await this.#fetch(topic);
      } catch (error) {
        const mapped = error as ProducerError;
        if (!(mapped instanceof UnknownTopicError) && !mapped.retriable) throw mapped;
        if (mapped instanceof UnknownTopicError && !(await this.#listed(topic))) {
          throw new UnknownTopicError(
            `Topic ${topic} does not exist. Create it first (createAdmin(...).ensureTopics): the cluster does not create topics on use.`,
            { topic, cause: mapped, kafkaType: 'UNKNOWN_TOPIC_OR_PARTITION' },
          );
        }
        if (Date.now() + wait > deadline) {
          if (mapped instanceof UnknownTopicError) {
            throw new UnknownTopicError(
              `Topic ${topic} exists but has no metadata yet (waited maxBlockMs ${this.#maxBlockMs} ms for its leaders).`,
              { topic, cause: mapped, kafkaType: 'UNKNOWN_TOPIC_OR_PARTITION' },
            );
          }
          throw mapped;
        }
        if (signal?.aborted) throw new AbortedError('send', { cause: signal.reason });
        await delay(wait, signal);
        wait = Math.min(wait * 2, 1_000);
      }
    }
  }

  /** Whether a broker lists `topic` (true when that cannot be told: then the caller waits). */
  async #listed(topic: string): Promise<boolean> {
    try {
      return (await this.#admin.listTopics()).includes(topic);
    } catch {
      return true;
    }
  }

  #fetch(topic: string): Promise<TopicInfo> {
    let loading = this.#loading.get(topic);
    if (loading === undefined) {
      loading = (async () => {
        try {
          const topics = await this.#admin.describeTopics([topic]);
          const found = topics.find((t) => t.name === topic);
          if (found === undefined || found.partitions.length === 0) {
            throw new UnknownTopicError(`Topic ${topic} has no partitions in the cluster metadata.`, {
              topic,
            });
          }
          const leaders: number[] = [];
          for (const p of found.partitions) leaders[p.partition] = p.leader;
          const info: TopicInfo = { partitionCount: found.partitions.length, leaders, fetchedAt: Date.now() };
          this.#topics.set(topic, info);
          return info;
        } catch (error) {
          throw toProducerError(error, { operation: 'Loading topic metadata', topic });
        } finally {
          this.#loading.delete(topic);
        }
      })();
      this.#loading.set(topic, loading);
    }
    return loading;
  }
}
