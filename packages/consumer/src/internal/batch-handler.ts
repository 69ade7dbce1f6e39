/**
 * Runs a subscription's batch handler over the records of one fetched batch, in both delivery
 * modes: retried in place as a whole, then each record forwarded to the next retry topic (or
 * dead-lettered), as Spring's `DefaultErrorHandler` recovers the records of a failed batch. On a
 * retry topic the handler gets the batch's due records, one attempt, like a record handler there.
 * In exactly-once mode (`sink` given) the handler's sends, the forwarded records and the dead
 * letters all go into the batch's transaction.
 * @module
 */

import { backoffDelayMs, delay, type Logger, StateError } from '@cascade/core';
import type { Headers } from '@cascade/schema';
import type { FetchedRecord } from '@cascade/transport';
import { type OriginalRecord, readRetryHeaders } from '../dlt-headers.js';
import type { HandlerContext, Message, OutputRecord } from '../types.js';
import { decideFailure } from './failure-policy.js';
import type { PartitionState } from './partition-state.js';
import { Abandoned, type OutputSink, type RecordProcessor, type Signals } from './record-processor.js';
import { dueAtOf } from './retry-due.js';
import { buildMessage, deserializeRecord } from './to-message.js';

/** A decoded record of the batch, with what its failure handling needs. */
interface Entry {
  readonly raw: FetchedRecord;
  readonly headers: Headers;
  readonly original: OriginalRecord;
  /** Attempts made before this delivery (0 on the subscribed topic). */
  readonly attemptsBefore: number;
  readonly message: Message<unknown, unknown>;
}

const atLeastOnceBatchContext: HandlerContext = {
  send: () => {
    throw new StateError('send', 'context.send() is for exactly-once mode (the eos option).');
  },
  afterCommit: () => {
    throw new StateError('afterCommit', 'context.afterCommit() is for exactly-once mode (the eos option).');
  },
};

/** What a batch handler run needs from its consumer. */
interface BatchHandlerDeps {
  readonly logger: Logger;
  readonly processor: RecordProcessor;
}

/**
 * Runs the batch handler of `state`'s subscription over `raws` (each due, or due within
 * `pauseThresholdMs`: then it waits for them). Resolves `true` when every record is finished
 * (handled, skipped, forwarded or dead-lettered), `false` when it gave up (stop or rebalance):
 * then nothing of the batch may be committed, and its offsets are taken back (`rewind`) so it
 * is read and begun again.
 */
export async function runBatchHandler(
  deps: BatchHandlerDeps,
  state: PartitionState,
  raws: readonly FetchedRecord[],
  signals: Signals,
  sink?: OutputSink,
): Promise<boolean> {
  const { subscription, retryStage } = state.source;
  if (subscription.batchHandler === undefined || raws.length === 0) return true;
  if (retryStage > 0) {
    // Due within pauseThresholdMs: wait for the last of them rather than run a little early.
    const wait = raws.reduce((latest, raw) => Math.max(latest, dueAtOf(raw)), 0) - Date.now();
    if (wait > 0) {
      try {
        await delay(wait, signals.dispatch);
      } catch {
        return false;
      }
    }
  }
  for (const raw of raws) state.tracker.begin(BigInt(raw.offset));
  const finish = (raw: FetchedRecord): void => state.tracker.complete(BigInt(raw.offset));
  let done = false;
  try {
    done = await runBegun(deps, state, raws, signals, sink, finish);
    return done;
  } finally {
    // Given up (stop, rebalance) or failed unexpectedly: the batch is read again from its start.
    if (!done) state.tracker.rewind(BigInt((raws[0] as FetchedRecord).offset));
  }
}

/** Runs a batch whose offsets are begun; `true` once every record is handled, forwarded or dead-lettered. */
async function runBegun(
  deps: BatchHandlerDeps,
  state: PartitionState,
  raws: readonly FetchedRecord[],
  signals: Signals,
  sink: OutputSink | undefined,
  finish: (raw: FetchedRecord) => void,
): Promise<boolean> {
  const { source } = state;
  const { subscription, topic, partition, retryStage } = source;
  const handler = subscription.batchHandler as NonNullable<typeof subscription.batchHandler>;
  try {
    const entries: Entry[] = [];
    for (const raw of raws) {
      if (raw.value === null && subscription.skipTombstones) {
        // tombstones: 'skip' — done without the handler.
        finish(raw);
        continue;
      }
      const headers = (raw.headers ?? {}) as Headers;
      const retryInfo = retryStage > 0 ? readRetryHeaders(headers) : undefined;
      const original = retryInfo?.original ?? deps.processor.originalOf(source, raw);
      const attemptsBefore = retryInfo?.attempts ?? 0;
      try {
        const decoded = deserializeRecord(source, raw, headers);
        const [key, value] = await Promise.all([decoded.key, decoded.value]);
        const message = buildMessage(
          source,
          raw,
          headers,
          { key, value },
          attemptsBefore + 1,
          { topic: original.topic, partition: original.partition, offset: original.offset },
          signals.abandon,
        );
        entries.push({ raw, headers, original, attemptsBefore, message });
      } catch (error) {
        // A poison pill goes to the DLT at once; the rest of the batch goes on without it.
        await deps.processor.deadLetter(
          source,
          raw,
          headers,
          original,
          error,
          attemptsBefore + 1,
          signals,
          sink,
        );
        finish(raw);
      }
    }
    if (entries.length === 0) return true;
    const first = entries[0] as Entry;
    for (let inPlace = 1; ; inPlace++) {
      if (signals.dispatch.aborted) return false;
      const outputs: OutputRecord[] = [];
      const afterCommit: (() => void)[] = [];
      const context: HandlerContext =
        sink === undefined
          ? atLeastOnceBatchContext
          : {
              send: (record) => void outputs.push(record),
              afterCommit: (callback) => void afterCommit.push(callback),
            };
      const messages =
        inPlace === 1
          ? entries.map((entry) => entry.message)
          : entries.map((entry) => ({ ...entry.message, attempt: entry.attemptsBefore + inPlace }));
      let failure: unknown;
      try {
        await handler(messages, context);
        sink?.(outputs, afterCommit);
        for (const entry of entries) finish(entry.raw);
        return true;
      } catch (error) {
        failure = error;
      }
      const decision = decideFailure(failure, subscription, inPlace, retryStage);
      deps.logger.warn('Batch handler failed.', {
        topic,
        partition,
        firstOffset: first.raw.offset,
        records: entries.length,
        attempt: first.attemptsBefore + inPlace,
        action: decision.action,
        error: failure,
      });
      if (decision.action === 'retry-in-place') {
        try {
          await delay(backoffDelayMs(subscription.retry, inPlace), signals.dispatch);
        } catch {
          return false;
        }
        continue;
      }
      for (const entry of entries) {
        const attempts = entry.attemptsBefore + inPlace;
        if (decision.action === 'retry-topic') {
          await deps.processor.forwardToRetry(
            source,
            entry.raw,
            entry.headers,
            entry.original,
            attempts,
            decision.n,
            signals,
            sink,
          );
        } else if (decision.action === 'dlt') {
          await deps.processor.deadLetter(
            source,
            entry.raw,
            entry.headers,
            entry.original,
            failure,
            attempts,
            signals,
            sink,
          );
        }
        finish(entry.raw);
      }
      return true;
    }
  } catch (error) {
    if (error instanceof Abandoned) return false;
    throw error;
  }
}
