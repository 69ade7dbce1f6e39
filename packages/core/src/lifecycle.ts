/**
 * Lifecycle and cancellation helpers shared by every Cascade component: a state machine with an
 * idempotent start and close, and `AbortSignal`-aware waiting.
 * @module
 */

import { AbortedError, ClosedError, TimeoutError } from './errors.js';

/** The states of a Cascade component, in the order they are normally reached. */
export type LifecycleState = 'idle' | 'connecting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * Tracks the state of a component and makes `start()` and `close()` idempotent: concurrent calls
 * share one attempt, `close()` after `close()` resolves at once, and operations after close throw
 * a {@link ClosedError}.
 *
 * @example
 * ```ts
 * class Producer {
 *   readonly #lifecycle = new Lifecycle('producer');
 *   get state() { return this.#lifecycle.state; }
 *   connect() { return this.#lifecycle.start(() => this.#client.connect()); }
 *   close() { return this.#lifecycle.close(() => this.#client.disconnect()); }
 *   send() { this.#lifecycle.assertUsable('send'); ... }
 * }
 * ```
 */
export class Lifecycle {
  readonly #component: string;
  #state: LifecycleState = 'idle';
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(component: string) {
    this.#component = component;
  }

  /** The current state. */
  get state(): LifecycleState {
    return this.#state;
  }

  /** Whether the component has started closing (or has closed, or failed). */
  get closed(): boolean {
    return this.#state === 'stopping' || this.#state === 'stopped' || this.#state === 'failed';
  }

  /**
   * Runs `startUp` once. Concurrent and repeated calls share its outcome. A failed start moves
   * the component to `failed` and rethrows; a start after close throws {@link ClosedError}.
   */
  start(startUp: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError(this.#component, 'start'));
    this.#starting ??= (async () => {
      this.#state = 'connecting';
      try {
        await startUp();
      } catch (error) {
        this.#state = 'failed';
        throw error;
      }
      // close() may have been called while starting; it owns the state from then on.
      if (this.#state === 'connecting') this.#state = 'running';
    })();
    return this.#starting;
  }

  /**
   * Runs `shutDown` once, after any start in progress has settled. Idempotent: every call
   * returns the same promise. The state ends `stopped`, or `failed` if `shutDown` threw.
   */
  close(shutDown: () => Promise<void>): Promise<void> {
    this.#closing ??= (async () => {
      const starting = this.#starting;
      this.#state = 'stopping';
      if (starting) await starting.catch(() => undefined);
      try {
        await shutDown();
        this.#state = 'stopped';
      } catch (error) {
        this.#state = 'failed';
        throw error;
      }
    })();
    return this.#closing;
  }

  /** Throws {@link ClosedError} if the component is closing or closed. */
  assertUsable(operation: string): void {
    if (this.closed) throw new ClosedError(this.#component, operation);
  }
}

/** Throws an {@link AbortedError} if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortedError(operation, { cause: signal.reason });
}

/**
 * Resolves after `ms` milliseconds, or rejects with {@link AbortedError} as soon as `signal`
 * aborts. For backoff delays inside the library; tests wait on conditions, never on this.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError('delay', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError('delay', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, but rejects with {@link TimeoutError} after `timeoutMs`, or with
 * {@link AbortedError} when `signal` aborts, whichever comes first. The timer is always cleared.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  operation: string,
  signal?: AbortSignal,
): Promise<T> {
  throwIfAborted(signal, operation);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(operation, timeoutMs)), timeoutMs);
    onAbort = () => reject(new AbortedError(operation, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
