/**
 * Resolves subscriptions to the topics the consumer reads: explicit topics, pattern matches, and
 * each topic's retry topics. Missing topics are an error (the cluster does not create topics on
 * use); a missing DLT is a warning.
 * @module
 */

import type { Logger } from '@cascade/core';
import { MissingTopicsError } from '../errors.js';
import type { Source } from './record-processor.js';
import { type ResolvedSubscription, retryTopicName } from './subscription.js';

/** Topics that are Cascade's own retry or dead-letter topics, never matched by a pattern. */
const derivedTopic = /\.retry\.\d+$|[.-]dlt$/;

/**
 * The sources (topic -> subscription, retry stage) of `subscriptions`, given the topics that
 * exist. Partitions are filled in per assigned partition later.
 * @throws MissingTopicsError naming every missing subscribed or retry topic.
 */
export function resolveSources(
  subscriptions: readonly ResolvedSubscription[],
  existing: ReadonlySet<string>,
  logger: Logger,
): Map<string, Source> {
  const sources = new Map<string, Source>();
  const missing: string[] = [];
  for (const subscription of subscriptions) {
    const topics = subscription.pattern
      ? [...existing].filter((t) => subscription.pattern?.test(t) && !derivedTopic.test(t))
      : subscription.topics;
    for (const topic of topics) {
      if (!existing.has(topic)) missing.push(topic);
      sources.set(topic, { subscription, topic, partition: -1, retryStage: 0, baseTopic: topic });
      subscription.retryDelaysMs.forEach((_, i) => {
        const retryTopic = retryTopicName(topic, i + 1);
        if (!existing.has(retryTopic)) missing.push(retryTopic);
        sources.set(retryTopic, {
          subscription,
          topic: retryTopic,
          partition: -1,
          retryStage: i + 1,
          baseTopic: topic,
        });
      });
      const dlt = subscription.dltTopic?.(topic);
      if (dlt !== undefined && !existing.has(dlt)) {
        logger.warn(
          'Dead-letter topic does not exist: a failing record will stop its partition until it does.',
          {
            topic,
            dlt,
          },
        );
      }
    }
  }
  if (missing.length > 0) throw new MissingTopicsError(missing);
  if (sources.size === 0) throw new MissingTopicsError(subscriptions.map((s) => String(s.pattern)));
  return sources;
}
