// Helpers for the consumer's integration tests: producing raw records, reading a topic back,
// and reading a group's committed offsets.
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import type { Kafka, KafkaMessage, Message } from 'kafkajs';
import { waitFor } from '../support/kafka.js';

// The tests' own kafkajs clients get the same Node 24 fix as Cascade's (no TimeoutNegativeWarning).
patchKafkajsNegativeTimeout();

/**
 * Produces raw records (acks = all) with an idempotent kafkajs producer. A plain one stores a
 * partition twice about one time in five right after the topic was created: the broker refuses
 * another partition of the same request (its replica not loaded yet), kafkajs resends the whole
 * request, and the partition the broker had stored goes in again.
 */
export async function produce(kafka: Kafka, topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1000) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads `count` records of `topic` from the beginning (read_committed), in partition order. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<Array<KafkaMessage & { partition: number }>> {
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  const records: Array<KafkaMessage & { partition: number }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        records.push({ ...message, partition });
      },
    });
    await waitFor(
      () => records.length >= count,
      () => `${count} records on ${topic}, got ${records.length}`,
      timeoutMs,
    );
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The group's committed offsets of `topic`, by partition (`-1` when none). */
export async function committed(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Record<number, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

/** A header value as text. */
export function text(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** Fast in-place retries for tests (no jitter). */
export const fastRetry = { initialIntervalMs: 10, maximumIntervalMs: 20, jitter: 0 } as const;
