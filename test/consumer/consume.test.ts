// The consumer against the real broker: typed records, order, commits after processing,
// unknown topics.
import { createConsumer, type Message, MissingTopicsError } from '@cascade/consumer';
import { json, string } from '@cascade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce } from './helpers.js';

interface Order {
  readonly id: number;
  readonly customer: string;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('consumer', () => {
  it('delivers typed records in order per partition and commits each partition to its end', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('orders');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic, 3);
    await produce(
      kafka,
      topic,
      Array.from({ length: 300 }, (_, id) => ({
        key: `customer-${id % 10}`,
        value: JSON.stringify({ id, customer: `customer-${id % 10}` }),
        headers: { source: 'test' },
      })),
    );
    const seen: Message<string, Order>[] = [];
    const consumer = createConsumer({ kafka: { brokers: cluster().brokers }, groupId, fromBeginning: true });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<Order>(),
      tombstones: 'skip',
      handler: async (message) => {
        seen.push(message);
      },
    });
    await consumer.start();
    expect(consumer.state).toBe('running');
    await waitFor(
      () => seen.length >= 300,
      () => `300 records, got ${seen.length}`,
    );
    await consumer.stop();
    expect(consumer.state).toBe('stopped');
    expect(seen).toHaveLength(300);
    expect(new Set(seen.map((m) => m.value.id)).size).toBe(300);
    const first = seen[0] as Message<string, Order>;
    expect(first.key).toBe(first.value.customer);
    expect(first.attempt).toBe(1);
    expect(String(first.headers.source)).toBe('test');
    expect(first.topic).toBe(topic);
    expect(typeof first.timestamp).toBe('number');
    const perPartition = new Map<number, number[]>();
    for (const m of seen)
      perPartition.set(m.partition, [...(perPartition.get(m.partition) ?? []), Number(m.offset)]);
    let total = 0;
    for (const [, offsets] of perPartition) {
      expect(offsets).toEqual(offsets.map((_, i) => i));
      total += offsets.length;
    }
    expect(total).toBe(300);
    const offsets = await committed(kafka, groupId, topic);
    for (const [partition, list] of perPartition) expect(offsets[partition]).toBe(String(list.length));
  });

  it('refuses to start on a topic that does not exist, with a typed error', async () => {
    const missing = uniqueName('missing');
    const consumer = createConsumer({ kafka: { brokers: cluster().brokers }, groupId: uniqueName('group') });
    consumer.subscribe({ topic: missing, value: json(), handler: () => {} });
    const error = await consumer.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MissingTopicsError);
    expect((error as MissingTopicsError).code).toBe('CASCADE_CONSUMER_UNKNOWN_TOPIC');
    expect((error as MissingTopicsError).topics).toEqual([missing]);
    expect(consumer.state).toBe('failed');
    await consumer.stop();
  });

  it('consumes every existing topic matching a pattern', async () => {
    const kafka = kafkaClient();
    const prefix = uniqueName('pattern');
    await createTopic(kafka, `${prefix}-a`);
    await createTopic(kafka, `${prefix}-b`);
    await produce(kafka, `${prefix}-a`, [{ value: '"a"' }]);
    await produce(kafka, `${prefix}-b`, [{ value: '"b"' }]);
    const seen: string[] = [];
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId: uniqueName('group'),
      fromBeginning: true,
    });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      pattern: new RegExp(`^${prefix}-`),
      value: json<string>(),
      handler: (m) => void seen.push(`${m.topic}:${m.value}`),
    });
    await consumer.start();
    await waitFor(
      () => seen.length >= 2,
      () => `2 records, got ${seen.join(',')}`,
    );
    expect(seen.sort()).toEqual([`${prefix}-a:a`, `${prefix}-b:b`]);
  });

  it('hands whole batches to a batch handler, retries a failed batch, and dead-letters it record by record', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('batches');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic);
    await createTopic(kafka, `${topic}.dlt`);
    await produce(
      kafka,
      topic,
      Array.from({ length: 50 }, (_, id) => ({ value: JSON.stringify({ id, customer: 'c' }) })),
    );
    const batches: number[][] = [];
    let failures = 0;
    const consumer = createConsumer({ kafka: { brokers: cluster().brokers }, groupId, fromBeginning: true });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<Order>(),
      tombstones: 'skip',
      retry: { maximumAttempts: 2, initialIntervalMs: 10, jitter: 0 },
      batchHandler: async (messages) => {
        if (messages.some((m) => m.value.id === 7)) {
          failures++;
          throw new Error('batch with order 7 fails');
        }
        batches.push(messages.map((m) => m.value.id));
      },
    });
    await consumer.start();
    const dead = await readTopicValues(kafka, `${topic}.dlt`);
    await consumer.stop();
    // The batch holding order 7 failed twice and went to the DLT record by record; the rest were handled.
    expect(failures).toBe(2);
    const handled = batches.flat();
    const deadIds = dead.map((v) => (JSON.parse(v) as Order).id);
    expect(deadIds).toContain(7);
    expect([...handled, ...deadIds].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '50' });
  });
});

async function readTopicValues(kafka: ReturnType<typeof kafkaClient>, topic: string): Promise<string[]> {
  const values: string[] = [];
  const reader = createConsumer({
    kafka: { brokers: cluster().brokers },
    groupId: uniqueName('reader'),
    fromBeginning: true,
    commitIntervalMs: 50,
  });
  reader.subscribe({
    topic,
    value: string(),
    tombstones: 'skip',
    dlt: false,
    handler: (m) => void values.push(m.value),
  });
  await reader.start();
  await waitFor(
    async () =>
      values.length > 0 &&
      (await committed(kafka, reader.groupId, topic))[0] === (await endOffset(kafka, topic)),
    () => `the DLT read to its end, ${values.length} so far`,
  );
  await reader.stop();
  return values;
}

async function endOffset(kafka: ReturnType<typeof kafkaClient>, topic: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic))[0]?.high ?? '0';
  } finally {
    await admin.disconnect();
  }
}
