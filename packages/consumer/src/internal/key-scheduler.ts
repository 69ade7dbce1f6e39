/**
 * Runs tasks in order per key and in parallel across keys, at most `maxConcurrency` at once.
 * Used by the `key` concurrency mode; the `partition` mode is the same scheduler with one key.
 * @module
 */

interface Queued {
  readonly run: () => Promise<void>;
  readonly done: () => void;
}

/** Per-key ordered, cross-key parallel execution with a concurrency bound. */
export class KeyScheduler {
  readonly #maxConcurrency: number;
  /** Queues of tasks per key; a key is present while it has a task running or waiting. */
  readonly #queues = new Map<string, Queued[]>();
  /** Keys whose head task may start, in arrival order. */
  readonly #ready: string[] = [];
  #running = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(maxConcurrency: number) {
    this.#maxConcurrency = maxConcurrency;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks running or queued. */
  get size(): number {
    let size = 0;
    for (const queue of this.#queues.values()) size += queue.length;
    return size;
  }

  /**
   * Queues `task` behind the earlier tasks of `key`. The returned promise settles when the task
   * has run (tasks handle their own errors; a rejection here is a bug and is rethrown).
   */
  schedule(key: string, task: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queued: Queued = {
        run: () => task().then(resolve, reject),
        done: resolve,
      };
      const queue = this.#queues.get(key);
      if (queue === undefined) {
        this.#queues.set(key, [queued]);
        this.#ready.push(key);
      } else {
        queue.push(queued);
      }
      this.#pump();
    });
  }

  /** Resolves when no task is running or queued. */
  idle(): Promise<void> {
    if (this.#queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#maxConcurrency && this.#ready.length > 0) {
      const key = this.#ready.shift() as string;
      const head = this.#queues.get(key)?.[0];
      if (head === undefined) continue;
      this.#running++;
      void head.run().finally(() => {
        this.#running--;
        const queue = this.#queues.get(key);
        queue?.shift();
        if (queue === undefined || queue.length === 0) this.#queues.delete(key);
        else this.#ready.push(key);
        if (this.#queues.size === 0) {
          const waiters = this.#idleWaiters;
          this.#idleWaiters = [];
          for (const wake of waiters) wake();
        }
        this.#pump();
      });
    }
  }
}
