// Key mode and back-pressure against the real broker.
import { createConsumer } from '@cascade/consumer';
import { json } from '@cascade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Step {
  readonly key: string;
  readonly seq: number;
}

describe('concurrency', () => {
  it('handles records in order per key and in parallel across keys, within maxInFlight', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('keyed');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic, 4);
    const keys = 100;
    const perKey = 10;
    const records = Array.from({ length: keys * perKey }, (_, i) => {
      const step = { key: `k${i % keys}`, seq: Math.floor(i / keys) };
      return { key: step.key, value: JSON.stringify(step) };
    });
    await produce(kafka, topic, records);
    const order = new Map<string, number[]>();
    let running = 0;
    let peak = 0;
    let sawPause = false;
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      maxInFlight: 20,
    });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<Step>(),
      tombstones: 'skip',
      concurrency: 'key',
      maxConcurrency: 8,
      handler: async (m) => {
        running++;
        peak = Math.max(peak, running);
        if (consumer.stats().paused) sawPause = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
        order.set(m.value.key, [...(order.get(m.value.key) ?? []), m.value.seq]);
        running--;
      },
    });
    const started = Date.now();
    await consumer.start();
    await waitFor(
      () => [...order.values()].reduce((n, list) => n + list.length, 0) >= keys * perKey,
      () => `${keys * perKey} records`,
    );
    const elapsed = Date.now() - started;
    await consumer.stop();
    expect(order.size).toBe(keys);
    for (const [key, seqs] of order) expect(seqs, key).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Parallel across keys (4 partitions x 8), never more than maxInFlight at once.
    expect(peak).toBeGreaterThan(8);
    expect(peak).toBeLessThanOrEqual(20);
    expect(consumer.stats().peakInFlight).toBeLessThanOrEqual(20);
    expect(sawPause).toBe(true);
    // 1,000 x 5 ms one at a time would take 5 s.
    expect(elapsed).toBeLessThan(5_000 + 4_000);
    const offsets = await committed(kafka, groupId, topic);
    const total = Object.values(offsets).reduce((n, o) => n + Number(o), 0);
    expect(total).toBe(keys * perKey);
  });

  it('keeps the in-flight count at the bound under a slow handler and resumes as it drains', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('slow');
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 200 }, (_, i) => ({
        key: `k${i}`,
        value: JSON.stringify({ key: `k${i}`, seq: i }),
      })),
    );
    const samples: number[] = [];
    let handled = 0;
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId: uniqueName('group'),
      fromBeginning: true,
      maxInFlight: 10,
    });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<Step>(),
      concurrency: 'key',
      maxConcurrency: 50,
      handler: async () => {
        samples.push(consumer.stats().inFlight);
        await new Promise((resolve) => setTimeout(resolve, 10));
        handled++;
      },
    });
    await consumer.start();
    await waitFor(
      () => handled >= 200,
      () => `200 handled, got ${handled}`,
    );
    expect(Math.max(...samples)).toBe(10);
    expect(consumer.stats().peakInFlight).toBe(10);
    await consumer.stop();
    expect(consumer.stats().inFlight).toBe(0);
  });
});
