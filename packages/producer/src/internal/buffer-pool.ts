/**
 * The producer's memory bound: `bufferMemoryBytes` of records queued or in flight. A reservation
 * that does not fit waits in FIFO order (so records keep their `send()` order) and fails after
 * `maxBlockMs` with {@link BufferFullError}. Waiters share one deadline timer (they all wait
 * `maxBlockMs`, so deadlines come in queue order) and settled ones are dropped lazily, so
 * admitting and expiring are O(1) per send even with tens of thousands waiting.
 * @module
 */

import { AbortedError } from '@cascade/core';
import { BufferFullError } from '../errors.js';

/**
 * A reservation waiting for room. No promise or closure of its own: `settled()` makes a promise
 * only for whoever asks (a flush), so tens of thousands of waiting sends stay cheap.
 */
class Waiter {
  readonly sizeBytes: number;
  readonly since: number;
  readonly deadline: number;
  readonly admitted: () => void;
  readonly rejected: (error: Error) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  done = false;
  #settled: Promise<void> | undefined;
  #markSettled: (() => void) | undefined;

  constructor(
    sizeBytes: number,
    since: number,
    deadline: number,
    admitted: () => void,
    rejected: (error: Error) => void,
    signal: AbortSignal | undefined,
  ) {
    this.sizeBytes = sizeBytes;
    this.since = since;
    this.deadline = deadline;
    this.admitted = admitted;
    this.rejected = rejected;
    this.signal = signal;
  }

  /** Resolves once the reservation is admitted or failed. */
  settled(): Promise<void> {
    if (this.done) return Promise.resolve();
    this.#settled ??= new Promise<void>((resolve) => {
      this.#markSettled = resolve;
    });
    return this.#settled;
  }

  /** Marks the reservation done; false if it was already. */
  finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
    this.#markSettled?.();
    return true;
  }
}

export interface BufferPoolOptions {
  readonly capacityBytes: number;
  readonly maxBlockMs: number;
  readonly now: () => number;
  /** Called when a reservation starts waiting (the accumulator then sends what it has). */
  readonly onWait: () => void;
}

export class BufferPool {
  readonly #options: BufferPoolOptions;
  readonly #waiters: Waiter[] = [];
  #head = 0;
  #waiting = 0;
  #timer: NodeJS.Timeout | undefined;
  #usedBytes = 0;

  constructor(options: BufferPoolOptions) {
    this.#options = options;
  }

  /** Bytes reserved. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Reservations waiting for room. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Reserves `sizeBytes` if there is room and nobody waits; says whether it did. */
  tryReserve(sizeBytes: number): boolean {
    if (this.#waiting !== 0 || this.#usedBytes + sizeBytes > this.#options.capacityBytes) return false;
    this.#usedBytes += sizeBytes;
    return true;
  }

  /**
   * Reserves `sizeBytes`, then calls `admit` (synchronously when there is room and nobody waits,
   * else once room frees up, in FIFO order). Calls `reject` with {@link BufferFullError} after
   * `maxBlockMs`, or with `AbortedError` when `signal` aborts.
   */
  reserve(sizeBytes: number, admit: () => void, reject: (error: Error) => void, signal?: AbortSignal): void {
    if (this.#waiting === 0 && this.#usedBytes + sizeBytes <= this.#options.capacityBytes) {
      this.#usedBytes += sizeBytes;
      admit();
      return;
    }
    if (signal?.aborted) {
      reject(new AbortedError('send', { cause: signal.reason }));
      return;
    }
    const now = this.#options.now();
    const waiter = new Waiter(sizeBytes, now, now + this.#options.maxBlockMs, admit, reject, signal);
    if (signal !== undefined) {
      waiter.onAbort = () => this.#fail(waiter, new AbortedError('send', { cause: signal.reason }));
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#waiters.push(waiter);
    this.#waiting += 1;
    this.#armTimer();
    this.#options.onWait();
  }

  #grant(waiter: Waiter): void {
    if (!waiter.finish()) return;
    this.#waiting -= 1;
    this.#usedBytes += waiter.sizeBytes;
    waiter.admitted();
  }

  #fail(waiter: Waiter, error: Error): void {
    if (!waiter.finish()) return;
    this.#waiting -= 1;
    waiter.rejected(error);
    // Whoever waited behind this one may fit now.
    this.#admit();
  }

  /** Returns bytes to the pool and admits whoever fits now. */
  release(sizeBytes: number): void {
    this.#usedBytes -= sizeBytes;
    this.#admit();
  }

  /** Promises that settle when each reservation waiting now is admitted or fails. */
  waitingNow(): Promise<void>[] {
    return this.#waiters
      .slice(this.#head)
      .filter((w) => !w.done)
      .map((w) => w.settled());
  }

  /** Fails every waiting reservation with `error`. */
  failAll(error: Error): void {
    for (const waiter of this.#waiters.slice(this.#head)) this.#fail(waiter, error);
  }

  /** Stops the deadline timer. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The first reservation still waiting (drops settled ones from the front). */
  #first(): Waiter | undefined {
    while (this.#head < this.#waiters.length) {
      const head = this.#waiters[this.#head];
      if (head !== undefined && !head.done) return head;
      this.#head += 1;
    }
    this.#waiters.length = 0;
    this.#head = 0;
    return undefined;
  }

  #armTimer(): void {
    if (this.#timer !== undefined) return;
    const first = this.#first();
    if (first === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        const now = this.#options.now();
        for (let w = this.#first(); w !== undefined && w.deadline <= now; w = this.#first()) {
          this.#fail(
            w,
            new BufferFullError(
              `The producer buffer (bufferMemoryBytes ${this.#options.capacityBytes}) stayed full for maxBlockMs (${this.#options.maxBlockMs} ms): the brokers do not keep up. Slow down, or raise bufferMemoryBytes / maxBlockMs.`,
              now - w.since,
            ),
          );
        }
        this.#armTimer();
      },
      Math.max(0, first.deadline - this.#options.now()),
    );
  }

  #admit(): void {
    for (let first = this.#first(); first !== undefined; first = this.#first()) {
      if (this.#usedBytes + first.sizeBytes > this.#options.capacityBytes) break;
      this.#grant(first);
    }
    if (this.#first() === undefined) this.dispose();
    // Compact the queue now and then.
    if (this.#head > 1_024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
