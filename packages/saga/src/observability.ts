/**
 * What a coordinator tells the outside world about its sagas: notifications as a listener or an
 * async iterator, and metrics (counts of each kind of transition, step latencies).
 * @module
 */

import type { SagaNotification } from './state.js';

/** Latency percentiles of one step, in milliseconds. */
export interface StepLatency {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** A snapshot of a coordinator's metrics. */
export interface SagaMetrics {
  /** How many notifications of each kind were seen (started, completed, compensated, ...). */
  readonly transitions: Readonly<Partial<Record<SagaNotification['kind'], number>>>;
  /** Latency of successful attempts, by `saga/step`. */
  readonly stepLatencyMs: Readonly<Record<string, StepLatency>>;
}

const latencyWindow = 1_024;

/** Fans notifications out to listeners and iterators, and keeps metrics. */
export class SagaObserver {
  readonly #listeners = new Set<(notification: SagaNotification) => void>();
  readonly #counts: Partial<Record<SagaNotification['kind'], number>> = {};
  readonly #latencies = new Map<string, { count: number; recent: number[] }>();

  /** Records a notification and passes it on. A listener that throws does not stop the others. */
  publish(notification: SagaNotification): void {
    this.#counts[notification.kind] = (this.#counts[notification.kind] ?? 0) + 1;
    if (notification.latencyMs !== undefined && notification.kind === 'step-succeeded') {
      const key = `${notification.saga}/${notification.step ?? ''}`;
      const entry = this.#latencies.get(key) ?? { count: 0, recent: [] };
      entry.count++;
      entry.recent.push(notification.latencyMs);
      if (entry.recent.length > latencyWindow) entry.recent.shift();
      this.#latencies.set(key, entry);
    }
    for (const listener of this.#listeners) {
      try {
        listener(notification);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  /** Calls `listener` with each notification. Returns an unsubscribe function. */
  subscribe(listener: (notification: SagaNotification) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Notifications from now on, until `signal` aborts. Buffered, so a slow reader misses none. */
  async *events(signal?: AbortSignal): AsyncGenerator<SagaNotification, void, undefined> {
    const queue: SagaNotification[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.subscribe((notification) => {
      queue.push(notification);
      wake?.();
    });
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The metrics so far. Latency percentiles cover each step's last 1,024 successful attempts. */
  metrics(): SagaMetrics {
    const stepLatencyMs: Record<string, StepLatency> = {};
    for (const [key, { count, recent }] of this.#latencies) {
      const sorted = [...recent].sort((a, b) => a - b);
      const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
      stepLatencyMs[key] = { count, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 };
    }
    return { transitions: { ...this.#counts }, stepLatencyMs };
  }
}
