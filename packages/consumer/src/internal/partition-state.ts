/**
 * What the consumer keeps per assigned partition: its offset tracker, its scheduler and where
 * its records come from.
 * @module
 */

import { KeyScheduler } from './key-scheduler.js';
import { OffsetTracker } from './offset-tracker.js';
import type { Source } from './record-processor.js';

/** The state of one assigned partition in the current generation. */
export interface PartitionState {
  readonly source: Source;
  readonly tracker: OffsetTracker;
  readonly scheduler: KeyScheduler;
}

/** `topic:partition`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** A fresh state for a partition of `source`. */
export function newPartitionState(source: Source): PartitionState {
  const concurrent = source.subscription.mode === 'key' && source.retryStage === 0;
  return {
    source,
    tracker: new OffsetTracker(),
    scheduler: new KeyScheduler(concurrent ? source.subscription.maxConcurrency : 1),
  };
}
