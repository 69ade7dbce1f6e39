// Helpers for the producer's integration tests: reading back exactly what the broker stored.
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import type { Kafka } from 'kafkajs';
import { uniqueName, waitFor } from '../support/kafka.js';

// The raw kafkajs clients these tests read with get the same fix Cascade's clients get, so the
// test output stays free of kafkajs' TimeoutNegativeWarning (tulios/kafkajs#1751).
patchKafkajsNegativeTimeout();

export interface StoredRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
  readonly timestamp: string;
}

/** The sum of the high watermarks of a topic (= records stored, for a non-transactional topic). */
export async function storedCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a topic from the beginning to the high watermark each partition has when the call starts
 * (every record stored by then, control records and aborted ones included in the count of offsets
 * read but not in the result), then returns the records in (partition, offset) order.
 *
 * It reads everything the broker holds, not only what a test expects: a late duplicate is
 * returned too. `expected` is only a lower bound that fails early and clearly when fewer records
 * arrive (a topic whose producer is still writing has more than its high watermark said).
 */
export async function readAll(
  kafka: Kafka,
  topic: string,
  expected: number,
  options: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<StoredRecord[]> {
  const ends = await highWatermarks(kafka, topic);
  const reached = new Map<number, number>();
  const consumer = kafka.consumer({
    groupId: uniqueName('reader'),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
  });
  // END_BATCH_PROCESS also reports the batches kafkajs never hands to eachBatch (only control
  // records, or only aborted records), so a partition that ends in a commit marker is seen to end.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const next = Number(payload.lastOffset) + 1;
    if (next > (reached.get(payload.partition) ?? 0)) reached.set(payload.partition, next);
  });
  const records: StoredRecord[] = [];
  const unread = (): string[] =>
    [...ends]
      .filter(([partition, end]) => (reached.get(partition) ?? ends.low(partition)) < end)
      .map(([partition, end]) => `partition ${partition} at ${reached.get(partition) ?? 0} of ${end}`);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
          records.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key === null ? null : m.key.toString(),
            value: m.value === null ? null : m.value.toString(),
            headers,
            timestamp: m.timestamp,
          });
        }
      },
    });
    await waitFor(
      () => unread().length === 0,
      () =>
        `${topic} read to its high watermarks; unread: ${unread().join(', ')} (${records.length} records)`,
      options.timeoutMs ?? 60_000,
    );
  } finally {
    await consumer.disconnect();
  }
  if (records.length < expected) {
    throw new Error(
      `${topic} holds ${records.length} records up to its high watermarks, expected at least ${expected}`,
    );
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** Each partition's high watermark, with the low watermark at hand for empty partitions. */
async function highWatermarks(
  kafka: Kafka,
  topic: string,
): Promise<Map<number, number> & { low(partition: number): number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const lows = new Map(offsets.map((p) => [p.partition, Number(p.low)]));
    return Object.assign(new Map(offsets.map((p) => [p.partition, Number(p.high)])), {
      low: (partition: number) => lows.get(partition) ?? 0,
    });
  } finally {
    await admin.disconnect();
  }
}
