/**
 * The transport consumer's `eachBatch` callback: hands each fetched record to its partition's
 * scheduler within the in-flight bound, waits for the batch to finish (so the client fetches that partition
 * again only then: back-pressure), and commits up to the lowest unfinished offset.
 * @module
 */

import type { Logger } from '@cascade/core';
import type { FetchedBatchPayload, FetchedRecord } from '@cascade/transport';
import { runBatchHandler } from './batch-handler.js';
import type { InFlightLimit } from './in-flight.js';
import type { PartitionState } from './partition-state.js';
import { Abandoned, type RecordProcessor, type Signals } from './record-processor.js';
import { duePrefix, pauseBefore } from './retry-due.js';

/** What the runner needs from its consumer. */
export interface BatchHost {
  readonly logger: Logger;
  readonly inFlight: InFlightLimit;
  readonly processor: RecordProcessor;
  /** The state of a partition in the current generation (created on first use). */
  state(topic: string, partition: number): PartitionState | undefined;
  /** The signals of the current generation. */
  signals(): Signals;
  /** Commits what the trackers allow. */
  commit(): Promise<void>;
  /** Whether the last commit failed (and none succeeded since). */
  commitsFailing(): boolean;
  /** Remembers the batch's heartbeat so the consumer can heartbeat while handlers run. */
  useHeartbeat(heartbeat: () => Promise<void>): void;
  /** Calls `resume` after `ms` (cancelled when the consumer stops). */
  resumeLater(resume: () => void, ms: number): void;
}

/** The key a record is ordered by in key mode; null keys are unordered. */
function orderingKey(state: PartitionState, message: FetchedRecord): string {
  if (state.source.subscription.mode === 'partition' || state.source.retryStage > 0) {
    return '';
  }
  return message.key === null ? `\u0000null:${message.offset}` : message.key.toString('latin1');
}

/** Runs one fetched batch in at-least-once mode. */
export async function runBatch(host: BatchHost, payload: FetchedBatchPayload): Promise<void> {
  const { batch, resolveOffset, heartbeat, isRunning, isStale, pause } = payload;
  host.useHeartbeat(heartbeat);
  const state = host.state(batch.topic, batch.partition);
  if (state === undefined) return;
  const signals = host.signals();
  if (state.source.subscription.batchHandler !== undefined) {
    const { due, pauseMs } = duePrefix(batch.messages, state.source.retryStage);
    let finished = due.length === 0;
    // One in-flight slot for the batch: a rebalance or stop waits for it like for a record.
    if (!finished && (host.inFlight.tryAcquire() || (await host.inFlight.acquire(signals.dispatch)))) {
      await waitOrAbandon(
        runBatchHandler(host, state, due, signals).then(
          (done) => {
            finished = done;
          },
          (error: unknown) =>
            host.logger.error('Batch processing failed unexpectedly; it stays uncommitted.', {
              topic: batch.topic,
              partition: batch.partition,
              error,
            }),
        ),
        signals.abandon,
      ).finally(() => host.inFlight.release());
    }
    if (finished && !signals.dispatch.aborted) {
      if (due.length === batch.messages.length) {
        state.tracker.skipTo(BigInt(batch.lastOffset()) + 1n);
        resolveOffset(batch.lastOffset());
      } else if (due.length > 0) {
        resolveOffset((due[due.length - 1] as FetchedRecord).offset);
      }
    }
    await commitAfterBatch(host);
    if (pauseMs > 0 && !signals.dispatch.aborted) host.resumeLater(pause(), pauseMs);
    return;
  }
  const keyed = state.source.subscription.mode === 'key' && state.source.retryStage === 0;
  const tasks: Promise<void>[] = [];
  let dispatchedAll = true;
  let lastDispatched: string | undefined;
  let dueIn = 0;
  const failed = (message: FetchedRecord, error: unknown): false => {
    host.inFlight.release();
    if (!(error instanceof Abandoned)) {
      host.logger.error('Record processing failed unexpectedly; it stays uncommitted.', {
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        error,
      });
    }
    return false;
  };
  /** Runs a record; synchronous when its handler was (no promise per record then). */
  const runOne = (message: FetchedRecord, offset: bigint): boolean | Promise<boolean> => {
    let outcome: Promise<void> | undefined;
    try {
      outcome = host.processor.handle(state.source, message, signals);
    } catch (error) {
      return failed(message, error);
    }
    if (outcome === undefined) {
      state.tracker.complete(offset);
      host.inFlight.release();
      return true;
    }
    return outcome.then(
      () => {
        state.tracker.complete(offset);
        host.inFlight.release();
        return true;
      },
      (error: unknown) => failed(message, error),
    );
  };
  const dispatchAll = async (): Promise<void> => {
    for (const message of batch.messages) {
      if (signals.dispatch.aborted || !isRunning() || isStale()) {
        dispatchedAll = false;
        return;
      }
      // A retry-topic record not yet due: pause this partition instead of blocking the fetch loop.
      const wait = pauseBefore(message, state.source.retryStage);
      if (wait > 0) {
        dispatchedAll = false;
        dueIn = wait;
        return;
      }
      if (!host.inFlight.tryAcquire() && !(await host.inFlight.acquire(signals.dispatch))) {
        dispatchedAll = false;
        return;
      }
      const offset = BigInt(message.offset);
      state.tracker.begin(offset);
      lastDispatched = message.offset;
      if (keyed) {
        tasks.push(
          state.scheduler.schedule(
            orderingKey(state, message),
            async () => void (await runOne(message, offset)),
          ),
        );
        continue;
      }
      const ran = runOne(message, offset);
      if (!(ran instanceof Promise ? await ran : ran)) {
        dispatchedAll = false;
        return;
      }
    }
  };
  await waitOrAbandon(
    dispatchAll().then(() => Promise.all(tasks)),
    signals.abandon,
  );
  if (dispatchedAll && !signals.dispatch.aborted) {
    // Past the control records that may end a transactional batch (they never reach handlers).
    state.tracker.skipTo(BigInt(batch.lastOffset()) + 1n);
    resolveOffset(batch.lastOffset());
  } else if (lastDispatched !== undefined && state.tracker.pendingCount === 0) {
    resolveOffset(lastDispatched);
  }
  await commitAfterBatch(host);
  if (dueIn > 0 && !signals.dispatch.aborted) host.resumeLater(pause(), dueIn);
}

/** The longest a batch waits for its commit; a healthy coordinator answers in milliseconds. */
export const batchCommitWaitMs = 1_000;

/**
 * Commits what the batch finished, and waits for it — at most {@link batchCommitWaitMs}, and not
 * at all while commits are failing. The wait keeps the group from rebalancing before what the
 * batch finished is committed: the client heartbeats as soon as the batch returns, may learn of a
 * rebalance then and rejoin, and a commit still queued would then go out too late (the next
 * owner reads those records again). While the group coordinator's broker is down, a commit
 * spends its whole retry budget (6-13 s): every batch waiting on it stalled consumption, so a
 * batch does not wait then (the commit goes on in the background; a failed one is logged and
 * retried with the next, and never fails the batch). Commits stay one at a time; a rebalance and
 * `stop()` wait for theirs.
 */
async function commitAfterBatch(host: BatchHost): Promise<void> {
  const committing = host.commit().catch(() => undefined);
  if (host.commitsFailing()) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    committing,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, batchCommitWaitMs);
    }),
  ]);
  clearTimeout(timer);
}

/** Resolves when `work` settles or `abandon` aborts, whichever comes first. */
export function waitOrAbandon(work: Promise<unknown>, abandon: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => resolve();
    if (abandon.aborted) {
      resolve();
      return;
    }
    abandon.addEventListener('abort', onAbort, { once: true });
    void work.then(() => {
      abandon.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
