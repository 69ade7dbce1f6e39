// Helpers for the producer's integration tests: reading back exactly what the broker stored.
import { patchKafkajsNegativeTimeout } from '@cascade/producer';
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
 * Reads a topic from the beginning until `expected` records arrived (and, for read_committed,
 * until every partition reached its end), then returns them in (partition, offset) order.
 */
export async function readAll(
  kafka: Kafka,
  topic: string,
  expected: number,
  options: { readUncommitted?: boolean; timeoutMs?: number } = {},
): Promise<StoredRecord[]> {
  const consumer = kafka.consumer({
    groupId: uniqueName('reader'),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
  });
  const records: StoredRecord[] = [];
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
      () => records.length >= expected,
      () => `${expected} records on ${topic}, got ${records.length}`,
      options.timeoutMs ?? 60_000,
    );
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}
