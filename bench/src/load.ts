/**
 * What the saga and TCC benchmarks share: driving a coordinator with concurrent callers, and the
 * baseline of a coordinator that commits one Kafka transaction per transition (raw kafkajs,
 * measured in the same run).
 */
import { randomUUID } from 'node:crypto';
import { coordinatorRetry } from '@cascade/saga';
import { Kafka, logLevel } from 'kafkajs';
import { timed } from './harness.js';

/**
 * Runs `one` `total` times from `concurrency` callers at once. Returns the wall time and what
 * each call returned (its latency), sorted.
 */
export async function runConcurrently(
  concurrency: number,
  total: number,
  one: () => Promise<number>,
): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const seconds = await timed(async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          latencies.push(await one());
        }
      }),
    );
  });
  latencies.sort((a, b) => a - b);
  return { seconds, latencies };
}

/**
 * Warms up, to measure steady state: `first` calls one after another (groups joined, producers
 * initialised), then `concurrency` callers for `ms` (the broker's and Node's JIT warm).
 */
export async function warmUp(
  one: () => Promise<unknown>,
  ms: number,
  concurrency: number,
  first = 20,
): Promise<void> {
  for (let i = 0; i < first; i++) await one();
  const until = Date.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) await one();
    }),
  );
}

/** The `p`th percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * One transaction per record, sequentially: what a coordinator without batching pays per
 * transition. `valueBytes` is about the size of the state record it would write.
 */
export async function naiveTransactionsPerSecond(
  brokers: string[],
  topic: string,
  count: number,
  valueBytes: number,
): Promise<number> {
  // The same fast first retry as the coordinator's, so the baseline is the best case of its design.
  const retry = {
    initialRetryTime: coordinatorRetry.initialIntervalMs,
    maxRetryTime: coordinatorRetry.maximumIntervalMs,
    retries: 11,
  };
  const kafka = new Kafka({ brokers, clientId: 'bench-naive', logLevel: logLevel.NOTHING, retry });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({
    transactionalId: `bench-naive-${randomUUID()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  try {
    const value = Buffer.alloc(valueBytes, 'x');
    const one = async (): Promise<void> => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: [{ key: 'k', value }] });
      await tx.commit();
    };
    for (let i = 0; i < 20; i++) await one(); // warm-up
    const seconds = await timed(async () => {
      for (let i = 0; i < count; i++) await one();
    });
    return count / seconds;
  } finally {
    await producer.disconnect();
  }
}
