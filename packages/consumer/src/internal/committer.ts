/**
 * Commits what the partition trackers allow, one commit at a time: the committed offset of each
 * partition is its lowest unfinished offset. Reports on the commit diagnostics channel and to the
 * `onCommit` interceptors.
 * @module
 */

import { cascadeChannel, DiagnosticChannels, type Logger } from '@cascade/core';
import { CommitError } from '../errors.js';
import type { CommittedOffset, ConsumerInterceptor } from '../types.js';
import type { PartitionState } from './partition-state.js';

const commitChannel = cascadeChannel<object>(DiagnosticChannels.consumerCommit);

/** What the committer needs from its consumer. */
export interface CommitterDeps {
  readonly groupId: string;
  readonly logger: Logger;
  readonly interceptors: readonly ConsumerInterceptor[];
  /** The partitions of the current generation. */
  states(): Iterable<PartitionState>;
  /** Sends the commit; `undefined` when there is nothing to commit through (not started, or EOS). */
  commitOffsets(): ((offsets: CommittedOffset[]) => Promise<void>) | undefined;
}

/** Serialises commits; calls made while one runs share a single follow-up. */
export class Committer {
  readonly #deps: CommitterDeps;
  #committing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #failing = false;

  constructor(deps: CommitterDeps) {
    this.#deps = deps;
  }

  /** Whether the last commit failed (the coordinator unreachable, moving, or refusing), until one succeeds. */
  get failing(): boolean {
    return this.#failing;
  }

  /** Commits every partition's finished offsets. Rejects with `CommitError` when the broker refused. */
  commit(): Promise<void> {
    if (this.#committing !== undefined) {
      this.#queued ??= this.#committing
        .catch(() => undefined)
        .then(() => {
          this.#queued = undefined;
          return this.commit();
        });
      return this.#queued;
    }
    this.#committing = this.#commitNow().finally(() => {
      this.#committing = undefined;
    });
    return this.#committing;
  }

  async #commitNow(): Promise<void> {
    const send = this.#deps.commitOffsets();
    if (send === undefined) return;
    const pending: Array<{ state: PartitionState; offset: bigint }> = [];
    for (const state of this.#deps.states()) {
      const offset = state.tracker.toCommit();
      if (offset !== undefined) pending.push({ state, offset });
    }
    if (pending.length === 0) return;
    const offsets: CommittedOffset[] = pending.map(({ state, offset }) => ({
      topic: state.source.topic,
      partition: state.source.partition,
      offset: offset.toString(),
    }));
    const run = async (): Promise<void> => {
      try {
        await send([...offsets]);
      } catch (cause) {
        this.#failing = true;
        const error = new CommitError(this.#deps.groupId, { cause });
        this.#deps.logger.warn(error.message, { error: cause });
        throw error;
      }
    };
    await (commitChannel.hasSubscribers ? commitChannel.tracePromise(run, { offsets }) : run());
    this.#failing = false;
    for (const { state, offset } of pending) state.tracker.markCommitted(offset);
    for (const interceptor of this.#deps.interceptors) {
      try {
        await interceptor.onCommit?.(offsets);
      } catch (error) {
        this.#deps.logger.warn('Consumer interceptor onCommit threw; ignored.', { error });
      }
    }
  }
}
