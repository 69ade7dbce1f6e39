/**
 * Arms the durable timers of the sagas a coordinator owns. The deadlines live in each saga's
 * state (so they survive crashes and move with the saga to another coordinator); this class only
 * turns them into `setTimeout`s, and re-arms them from the state after every transition.
 * @module
 */

import type { SagaState } from './state.js';

/** The longest delay `setTimeout` takes; longer ones are re-armed in steps. */
const maxTimeoutMs = 2 ** 31 - 1;

/** Called when a saga's timer is due. */
export type TimerFired = (sagaId: string, timerId: string) => void;

/** The in-memory side of durable timers. */
export class TimerScheduler {
  readonly #fire: TimerFired;
  readonly #now: () => number;
  readonly #armed = new Map<string, Map<string, { dueAt: number; handle: NodeJS.Timeout }>>();

  constructor(fire: TimerFired, now: () => number = Date.now) {
    this.#fire = fire;
    this.#now = now;
  }

  /** Makes the armed timers of a saga match its state: arms new deadlines, disarms removed ones. */
  sync(state: SagaState): void {
    const wanted = state.timers;
    let armed = this.#armed.get(state.sagaId);
    for (const [id, timer] of armed ?? []) {
      if (wanted[id]?.dueAt !== timer.dueAt) {
        clearTimeout(timer.handle);
        armed?.delete(id);
      }
    }
    for (const [id, timer] of Object.entries(wanted)) {
      if (armed?.has(id)) continue;
      armed ??= new Map();
      this.#armed.set(state.sagaId, armed);
      armed.set(id, { dueAt: timer.dueAt, handle: this.#arm(state.sagaId, id, timer.dueAt) });
    }
    if (armed?.size === 0) this.#armed.delete(state.sagaId);
  }

  /** Disarms every timer of a saga (it ended, or moved to another coordinator). */
  clear(sagaId: string): void {
    for (const timer of this.#armed.get(sagaId)?.values() ?? []) clearTimeout(timer.handle);
    this.#armed.delete(sagaId);
  }

  /** Disarms everything. */
  clearAll(): void {
    for (const sagaId of [...this.#armed.keys()]) this.clear(sagaId);
  }

  /** How many timers are armed, for metrics and tests. */
  get size(): number {
    let count = 0;
    for (const timers of this.#armed.values()) count += timers.size;
    return count;
  }

  #arm(sagaId: string, timerId: string, dueAt: number): NodeJS.Timeout {
    const delayMs = Math.max(0, dueAt - this.#now());
    const handle = setTimeout(
      () => {
        const armed = this.#armed.get(sagaId);
        const entry = armed?.get(timerId);
        if (entry?.handle !== handle) return;
        if (dueAt > this.#now()) {
          entry.handle = this.#arm(sagaId, timerId, dueAt); // a far deadline, re-armed in steps
          return;
        }
        armed?.delete(timerId);
        if (armed?.size === 0) this.#armed.delete(sagaId);
        this.#fire(sagaId, timerId);
      },
      Math.min(delayMs, maxTimeoutMs),
    );
    handle.unref();
    return handle;
  }
}
