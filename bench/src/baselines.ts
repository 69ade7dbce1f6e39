/**
 * The baselines the saga and TCC benchmarks share: what a coordinator that commits one Kafka
 * transaction per transition could reach, measured with raw kafkajs in the same run.
 */
import { randomUUID } from 'node:crypto';
import { coordinatorRetry } from '@cascade/saga';
import { Kafka, logLevel } from 'kafkajs';
import { timed } from './harness.js';

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
