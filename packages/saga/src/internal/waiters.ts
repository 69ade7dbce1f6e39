import { AbortedError } from '@cascade/core';
import type { SagaState } from '../state.js';

interface Waiter {
  readonly operation: string;
  /** Offers a committed state; returns whether the wait settled on it. */
  offer(state: SagaState): boolean;
  fail(error: Error): void;
}

/** A wait on a saga's committed states; `detach()` gives it up without settling it. */
export interface StateWatch<T> {
  readonly promise: Promise<T>;
  detach(): void;
}

/**
 * Callers of the coordinator waiting on a saga's committed states (`result()`, `begin()`), by
 * saga id. Each wait settles on the first state its `settle` accepts, rejects with an
 * {@link AbortedError} when its signal aborts (at once if it has already), and with the error
 * {@link StateWaiters.close} gives when the coordinator stops. Whatever way it settles, its abort
 * listener is removed: one signal may serve any number of waits.
 */
export class StateWaiters {
  readonly #bySaga = new Map<string, Set<Waiter>>();
  #closed: ((operation: string) => Error) | undefined;

  /** Offers a committed state to the waits on its saga. */
  offer(state: SagaState): void {
    const waiting = this.#bySaga.get(state.sagaId);
    if (waiting === undefined) return;
    for (const waiter of [...waiting]) waiter.offer(state);
  }

  /** Whether anyone waits on `sagaId`. */
  has(sagaId: string): boolean {
    return this.#bySaga.has(sagaId);
  }

  /** Rejects every wait, and every later one, with the error `closed` makes for its operation. */
  close(closed: (operation: string) => Error): void {
    this.#closed = closed;
    const all = [...this.#bySaga.values()].flatMap((waiting) => [...waiting]);
    for (const waiter of all) waiter.fail(closed(waiter.operation));
  }

  /** Waits, described as `operation` in errors, for a state of `sagaId` that `settle` accepts. */
  watch<T>(
    sagaId: string,
    settle: (state: SagaState) => T | undefined,
    operation: string,
    signal?: AbortSignal,
  ): StateWatch<T> {
    let detach = (): void => undefined;
    const promise = new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new AbortedError(operation, { cause: signal.reason }));
        return;
      }
      if (this.#closed !== undefined) {
        reject(this.#closed(operation));
        return;
      }
      const onAbort = (): void => waiter.fail(new AbortedError(operation, { cause: signal?.reason }));
      detach = () => {
        signal?.removeEventListener('abort', onAbort);
        const waiting = this.#bySaga.get(sagaId);
        waiting?.delete(waiter);
        if (waiting?.size === 0) this.#bySaga.delete(sagaId);
      };
      const waiter: Waiter = {
        operation,
        offer: (state) => {
          const value = settle(state);
          if (value === undefined) return false;
          detach();
          resolve(value);
          return true;
        },
        fail: (error) => {
          detach();
          reject(error);
        },
      };
      const waiting = this.#bySaga.get(sagaId) ?? new Set<Waiter>();
      waiting.add(waiter);
      this.#bySaga.set(sagaId, waiting);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return { promise, detach: () => detach() };
  }
}
