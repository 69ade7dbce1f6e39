/**
 * An interceptor that counts records, bytes and failures, and keeps a latency histogram
 * (from `send()` to acknowledgement), per topic and in total. Read it with `snapshot()`, or
 * export it to Prometheus/OpenTelemetry from there.
 * @module
 */

import type { ProducerInterceptor } from './interceptors.js';

/** Latency histogram bucket upper bounds, in ms. */
const defaultBucketsMs = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000] as const;

/** Counters of one topic (or of all). */
export interface MetricsCounters {
  /** Records handed to `send()`. */
  readonly sent: number;
  /** Records the broker stored. */
  readonly acknowledged: number;
  /** Records that failed. */
  readonly failed: number;
  /** Serialized bytes of acknowledged records. */
  readonly bytes: number;
  /** Failed records by error code (or error name). */
  readonly errors: Readonly<Record<string, number>>;
  /** Latency histogram: `counts[i]` records took at most `bucketsMs[i]` ms; the last count is the overflow. */
  readonly latency: {
    readonly bucketsMs: readonly number[];
    readonly counts: readonly number[];
    readonly sumMs: number;
    readonly maxMs: number;
  };
}

/** What {@link MetricsInterceptor.snapshot} returns. */
export interface MetricsSnapshot {
  readonly total: MetricsCounters;
  readonly topics: Readonly<Record<string, MetricsCounters>>;
}

/** The metrics interceptor, with a way to read it. */
export interface MetricsInterceptor<K, V> extends ProducerInterceptor<K, V> {
  /** A copy of the counters so far. */
  snapshot(): MetricsSnapshot;
}

interface MutableCounters {
  sent: number;
  acknowledged: number;
  failed: number;
  bytes: number;
  errors: Record<string, number>;
  counts: number[];
  sumMs: number;
  maxMs: number;
}

/**
 * Creates a metrics interceptor.
 *
 * @example
 * ```ts
 * const metrics = metricsInterceptor();
 * const producer = createProducer({ ..., interceptors: [metrics] });
 * setInterval(() => report(metrics.snapshot()), 10_000);
 * ```
 */
export function metricsInterceptor<K, V>(
  options: { readonly bucketsMs?: readonly number[] } = {},
): MetricsInterceptor<K, V> {
  const bucketsMs = [...(options.bucketsMs ?? defaultBucketsMs)].sort((a, b) => a - b);
  const fresh = (): MutableCounters => ({
    sent: 0,
    acknowledged: 0,
    failed: 0,
    bytes: 0,
    errors: {},
    counts: new Array<number>(bucketsMs.length + 1).fill(0),
    sumMs: 0,
    maxMs: 0,
  });
  const total = fresh();
  const topics = new Map<string, MutableCounters>();
  const forTopic = (topic: string): MutableCounters => {
    let counters = topics.get(topic);
    if (counters === undefined) {
      counters = fresh();
      topics.set(topic, counters);
    }
    return counters;
  };
  const copy = (c: MutableCounters): MetricsCounters => ({
    sent: c.sent,
    acknowledged: c.acknowledged,
    failed: c.failed,
    bytes: c.bytes,
    errors: { ...c.errors },
    latency: { bucketsMs: [...bucketsMs], counts: [...c.counts], sumMs: c.sumMs, maxMs: c.maxMs },
  });
  return {
    name: 'metrics',
    onSend(record) {
      total.sent += 1;
      forTopic(record.topic).sent += 1;
      return record;
    },
    onAcknowledgement(outcome, record, info) {
      for (const c of [total, forTopic(record.topic)]) {
        if (outcome instanceof Error) {
          c.failed += 1;
          const code = (outcome as { code?: unknown }).code;
          const key = typeof code === 'string' ? code : outcome.name;
          c.errors[key] = (c.errors[key] ?? 0) + 1;
        } else {
          c.acknowledged += 1;
          c.bytes += info.sizeBytes;
        }
        let bucket = bucketsMs.findIndex((le) => info.latencyMs <= le);
        if (bucket < 0) bucket = bucketsMs.length;
        c.counts[bucket] = (c.counts[bucket] ?? 0) + 1;
        c.sumMs += info.latencyMs;
        c.maxMs = Math.max(c.maxMs, info.latencyMs);
      }
    },
    snapshot() {
      return {
        total: copy(total),
        topics: Object.fromEntries([...topics].map(([topic, c]) => [topic, copy(c)])),
      };
    },
  };
}
