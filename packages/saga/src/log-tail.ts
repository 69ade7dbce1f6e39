/**
 * Follows chosen partitions of the saga log from their end, for callers waiting on states a
 * coordinator may not write itself (`begin()` and `result()` of a saga another coordinator owns).
 * It holds no state: each record goes to `onEntry`, and a partition is followed only while
 * someone follows it (and `lingerMs` after, so a `result()` right after a `begin()` finds it
 * still followed).
 * @module
 */

import { AbortedError, delay, type Logger } from '@cascade/core';
import { isTransportError } from '@cascade/transport';
import type { LogEntry, SagaLog } from './log.js';

interface Followed {
  count: number;
  readonly controller: AbortController;
  /** Resolves once the start position is known: records from then on are seen. */
  readonly positioned: Promise<void>;
  linger: NodeJS.Timeout | undefined;
}

/** Follows log partitions from their end. */
export class LogTail {
  readonly #log: SagaLog;
  readonly #onEntry: (partition: number, entry: LogEntry) => void;
  readonly #logger: Logger;
  readonly #lingerMs: number;
  readonly #followed = new Map<number, Followed>();
  #closed = false;

  constructor(options: {
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

  /** The partitions followed now. */
  get partitions(): number[] {
    return [...this.#followed.keys()];
  }

  /**
   * Follows `partition`; resolves, once every record written to it from now on will be seen,
   * with the function that stops following it (called once per follow).
   */
  async follow(partition: number, signal?: AbortSignal): Promise<() => void> {
    if (this.#closed) throw new AbortedError(`follow saga log partition ${partition}`);
    let followed = this.#followed.get(partition);
    if (followed === undefined) {
      const controller = new AbortController();
      let positioned!: (offset: bigint) => void;
      let failed!: (error: unknown) => void;
      const position = new Promise<bigint>((resolve, reject) => {
        positioned = resolve;
        failed = reject;
      });
      followed = {
        count: 0,
        controller,
        positioned: position.then(() => undefined),
        linger: undefined,
      };
      this.#followed.set(partition, followed);
      this.#run(partition, controller.signal, positioned, failed).catch(() => undefined);
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
        if (entry.count > 0) return;
        this.#followed.delete(partition);
        entry.controller.abort();
      }, this.#lingerMs);
      entry.linger.unref?.();
    };
    try {
      if (signal === undefined) await entry.positioned;
      else
        await Promise.race([
          entry.positioned,
          new Promise<never>((_, reject) => {
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          }),
        ]);
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  /** Stops following every partition. */
  close(): void {
    this.#closed = true;
    for (const followed of this.#followed.values()) {
      clearTimeout(followed.linger);
      followed.controller.abort();
    }
    this.#followed.clear();
  }

  async #run(
    partition: number,
    signal: AbortSignal,
    positioned: (offset: bigint) => void,
    failed: (error: unknown) => void,
  ): Promise<void> {
    let next: bigint | undefined;
    for (let attempt = 1; !signal.aborted; ) {
      try {
        if (next === undefined) {
          next = (await this.#log.ends()).get(partition) ?? 0n;
          positioned(next);
        }
        const polled = await this.#log.poll(partition, next, signal);
        for (const entry of polled.entries) this.#onEntry(partition, entry);
        next = polled.next;
        attempt = 1;
      } catch (error) {
        if (signal.aborted) return;
        if (next === undefined && attempt >= 5) {
          failed(error);
          const followed = this.#followed.get(partition);
          if (followed?.controller.signal === signal) this.#followed.delete(partition);
          return;
        }
        // Out of range: the partition was truncated under the tail. Start again at its end.
        if (isTransportError(error) && error.kafkaType === 'OFFSET_OUT_OF_RANGE') next = undefined;
        this.#logger.warn('Following a saga log partition failed; trying again.', {
          partition,
          attempt,
          error,
        });
        await delay(Math.min(100 * attempt, 1_000), signal).catch(() => undefined);
        attempt++;
      }
    }
    // Stopped before it knew where to start: whoever waits for that is told.
    if (next === undefined) failed(new AbortedError(`follow saga log partition ${partition}`));
  }
}
