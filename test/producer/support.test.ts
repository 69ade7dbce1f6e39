// The read-back helper itself: the producer tests' proof of "stored once" is only as good as it.
import { describe, expect, it } from 'vitest';
import { createTopic, kafkaClient, uniqueName } from '../support/kafka.js';
import { readAll } from './support.js';

describe('readAll (test support)', () => {
  it('returns every record up to the high watermarks, not only the count a test expects', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('read-all');
    await createTopic(kafka, topic, 2);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    // 10 MB over two partitions: many fetches, so a reader that stopped at the expected count
    // (here 1) would return a fraction of what is stored.
    const value = 'x'.repeat(1_000);
    for (let round = 0; round < 10; round++) {
      await producer.sendBatch({
        topicMessages: [
          {
            topic,
            messages: Array.from({ length: 1_000 }, (_, i) => ({
              partition: i % 2,
              value: `${round}-${i}-${value}`,
            })),
          },
        ],
      });
    }
    await producer.disconnect();
    const stored = await readAll(kafka, topic, 1);
    expect(stored).toHaveLength(10_000);
    expect(new Set(stored.map((r) => `${r.partition}:${r.offset}`)).size).toBe(10_000);
  });

  it('reads a transactional topic to its end, past the commit markers, and sees a late duplicate', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('read-all-tx');
    await createTopic(kafka, topic, 1);
    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    for (const value of ['a', 'b', 'a']) {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: [{ value }] });
      await tx.commit();
    }
    await producer.disconnect();
    // Two records were expected; the broker holds three (one a duplicate) behind three markers.
    const stored = await readAll(kafka, topic, 2);
    expect(stored.map((r) => r.value)).toEqual(['a', 'b', 'a']);
    expect(stored.map((r) => r.offset)).toEqual(['0', '2', '4']);
  });
});
