/**
 * Follows chosen partitions of the saga log from their end, for callers waiting on states a
 * coordinator may not write itself (`begin()` and `result()` of a saga another coordinator owns).
 * It holds no state: each record goes to `onEntry`. A partition is followed while someone follows
 * it (and `lingerMs` after, so a `result()` right after a `begin()` finds it still followed). All
 * followed partitions are read by one fetch at a time, on a reader of the tail's own: a broker
 * answers one connection's requests in order, and a fetch waiting for new records would hold up
 * a restore's reads behind it.
 * @module
 */

import { AbortedError, delay, type Logger } from '@cascade/core';
import { isTransportError } from '@cascade/transport';
import type { LogEntry, SagaLog } from './log.js';

interface Followed {
  count: number;
  /** The next offset to read; undefined until the start position is known. */
  next: bigint | undefined;
  linger: NodeJS.Timeout | undefined;
}

/** How long a fetch of the tail waits for new records. */
const tailWaitMs = 200;

/** Follows log partitions from their end. */
export class LogTail {
  readonly #log: SagaLog;
  readonly #onEntry: (partition: number, entry: LogEntry) => void;
  readonly #logger: Logger;
  readonly #lingerMs: number;
  readonly #followed = new Map<number, Followed>();
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: {
    /** A log of the tail's own (its reader does nothing else). */
    readonly log: SagaLog;
    readonly onEntry: (partition: number, entry: LogEntry) => void;
    readonly logger: Logger;
    readonly lingerMs?: number;
  }) {
    this.#log = options.log;
    this.#onEntry = options.onEntry;
    this.#logger = options.logger;
    this.#lingerMs = options.lingerMs ?? 30_000;
  }

  /**
   * Follows `partition`; resolves, once every record written to it from now on will be seen,
   * with the function that stops following it (call it once).
   */
  async follow(partition: number, signal?: AbortSignal): Promise<() => void> {
    if (this.#stop.signal.aborted) throw new AbortedError(`follow saga log partition ${partition}`);
    let followed = this.#followed.get(partition);
    if (followed === undefined) {
      followed = { count: 0, next: undefined, linger: undefined };
      this.#followed.set(partition, followed);
    }
    followed.count++;
    if (followed.linger !== undefined) {
      clearTimeout(followed.linger);
      followed.linger = undefined;
    }
    const entry = followed;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      entry.count--;
      if (entry.count > 0 || this.#followed.get(partition) !== entry) return;
      entry.linger = setTimeout(() => {
        if (entry.count === 0 && this.#followed.get(partition) === entry) this.#followed.delete(partition);
      }, this.#lingerMs);
      entry.linger.unref?.();
    };
    try {
      if (entry.next === undefined) {
        const signals =
          signal === undefined ? this.#stop.signal : AbortSignal.any([signal, this.#stop.signal]);
        const end = await this.#position(partition, signals);
        entry.next ??= end;
      }
    } catch (error) {
      release();
      if (signal?.aborted) throw signal.reason;
      if (this.#stop.signal.aborted) throw new AbortedError(`follow saga log partition ${partition}`);
      throw error;
    }
    this.#loop ??= this.#run().finally(() => {
      this.#loop = undefined;
    });
    return release;
  }

  /** Stops following every partition. */
  close(): void {
    this.#stop.abort();
    for (const followed of this.#followed.values()) clearTimeout(followed.linger);
    this.#followed.clear();
  }

  /** The partition's end now (where a follow starts), asked again briefly on failure. */
  async #position(partition: number, signal: AbortSignal): Promise<bigint> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.#log.ends()).get(partition) ?? 0n;
      } catch (error) {
        if (signal.aborted || attempt >= 5) throw error;
        await delay(100 * attempt, signal);
      }
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    for (let attempt = 1; !signal.aborted; ) {
      const positions = new Map<number, bigint>();
      for (const [partition, followed] of this.#followed) {
        if (followed.next !== undefined) positions.set(partition, followed.next);
      }
      if (positions.size === 0) return;
      try {
        const polled = await this.#log.poll(positions, tailWaitMs, signal);
        for (const [partition, { entries, next }] of polled) {
          const followed = this.#followed.get(partition);
          if (followed === undefined) continue;
          for (const entry of entries) this.#onEntry(partition, entry);
          followed.next = next;
        }
        attempt = 1;
      } catch (error) {
        if (signal.aborted) return;
        // Out of range: a partition was truncated under the tail. Start again at the ends.
        if (isTransportError(error) && error.kafkaType === 'OFFSET_OUT_OF_RANGE') {
          const ends = await this.#log.ends().catch(() => undefined);
          for (const [partition, followed] of this.#followed) {
            const end = ends?.get(partition);
            if (end !== undefined && followed.next !== undefined && followed.next > end) followed.next = end;
          }
        }
        this.#logger.warn('Following the saga log failed; trying again.', { attempt, error });
        await delay(Math.min(100 * attempt, 1_000), signal).catch(() => undefined);
        attempt++;
      }
    }
  }
}
