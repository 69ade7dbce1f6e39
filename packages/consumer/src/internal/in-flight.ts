/**
 * The bound on records in flight across a consumer. When it is reached, dispatching waits (and
 * the consumer stops fetching: the transport fetches a partition again only after its batch returns),
 * and it resumes as handlers finish.
 * @module
 */

/** A counting semaphore with pause/resume notifications. */
export class InFlightLimit {
  readonly #max: number;
  #count = 0;
  #waiters: Array<() => void> = [];
  #paused = false;
  readonly #onPause: (paused: boolean) => void;
  /** The highest count ever reached. */
  peak = 0;

  constructor(max: number, onPause: (paused: boolean) => void = () => {}) {
    this.#max = max;
    this.#onPause = onPause;
  }

  get count(): number {
    return this.#count;
  }

  /** Whether dispatching is waiting for room. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Takes a slot if one is free, without waiting. */
  tryAcquire(): boolean {
    if (this.#count >= this.#max) return false;
    this.#count++;
    if (this.#count > this.peak) this.peak = this.#count;
    return true;
  }

  /** Takes one slot, waiting while the bound is reached. Resolves `false` if `signal` aborted. */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    while (this.#count >= this.#max) {
      if (signal?.aborted) return false;
      if (!this.#paused) {
        this.#paused = true;
        this.#onPause(true);
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
    if (signal?.aborted) return false;
    this.#count++;
    if (this.#count > this.peak) this.peak = this.#count;
    return true;
  }

  /** Gives a slot back. */
  release(): void {
    this.#count--;
    if (this.#paused && this.#count < this.#max) {
      this.#paused = false;
      this.#onPause(false);
    }
    const waiter = this.#waiters.shift();
    waiter?.();
  }
}
