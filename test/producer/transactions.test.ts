// Transactions on the real broker: commit/abort visibility, serialization, fencing, sendOffsets.
import { createLogger } from '@cascade/core';
import { createProducer, ProducerFencedError, TransactionStateError } from '@cascade/producer';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName } from '../support/kafka.js';
import { readAll } from './support.js';

describe('producer transactions', () => {
  it('makes committed records visible to read_committed consumers and aborted ones never', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('tx-visibility');
    await createTopic(kafka, topic, 2);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      transactionalId: uniqueName('tx'),
      defaultTopic: topic,
    });
    await producer.transaction(async (tx) => {
      await tx.sendBatch(
        Array.from({ length: 10 }, (_, i) => ({ value: `committed-${i}`, partition: i % 2 })),
      );
    });
    const failure = new Error('handler failed');
    await expect(
      producer.transaction(async (tx) => {
        await tx.sendBatch(
          Array.from({ length: 10 }, (_, i) => ({ value: `aborted-${i}`, partition: i % 2 })),
        );
        throw failure;
      }),
    ).rejects.toBe(failure);
    const returned = await producer.transaction(async (tx) => {
      const m = await tx.send({ value: 'after-abort', partition: 0 });
      return m.offset;
    });
    expect(returned).toEqual(expect.any(String));
    // read_committed sees the 11 committed records, and not one aborted record.
    const committed = await readAll(kafka, topic, 11);
    expect(committed.map((r) => r.value).sort()).toEqual(
      [...Array.from({ length: 10 }, (_, i) => `committed-${i}`), 'after-abort'].sort(),
    );
    // read_uncommitted sees the aborted ones as well: they were written, then aborted.
    const all = await readAll(kafka, topic, 21, { readUncommitted: true });
    expect(all.filter((r) => r.value?.startsWith('aborted-'))).toHaveLength(10);
  });

  it('retries a transaction begun while the previous commit completes after ~20 ms, logged at debug', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('tx-back-to-back');
    await createTopic(kafka, topic, 3);
    const entries: { level: string; message: string; meta: Record<string, unknown> }[] = [];
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      transactionalId: uniqueName('tx'),
      defaultTopic: topic,
      logger: createLogger((level, message, meta) => entries.push({ level, message, meta: meta ?? {} }), {
        level: 'debug',
      }),
    });
    const concurrent = () =>
      entries.filter((e) => /another concurrent operation on the same transaction/.test(e.message));
    // Back-to-back transactions until the broker has answered CONCURRENT_TRANSACTIONS at least
    // once (about one transaction in eight here; the bound only ends a broker that never does).
    let transactions = 0;
    while (concurrent().length === 0 && transactions < 400) {
      await producer.transaction((tx) => tx.sendBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }]));
      transactions += 1;
    }
    const retries = concurrent().filter((e) => e.meta.retryTime !== undefined);
    expect(retries.length).toBeGreaterThan(0);
    for (const retry of retries) {
      expect(retry.level).toBe('debug');
      // The first retry: 20 ms with the default ±20% jitter (kafkajs' own default is 300 ms).
      expect(retry.meta.retryCount).toBe(0);
      expect(retry.meta.retryTime).toBeLessThanOrEqual(24);
    }
    expect(entries.filter((e) => e.level === 'error')).toEqual([]);
    const stored = await readAll(kafka, topic, transactions * 3);
    expect(stored).toHaveLength(transactions * 3);
  });

  it('runs concurrent transaction() calls one after another', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('tx-serial');
    await createTopic(kafka, topic, 1);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      transactionalId: uniqueName('tx'),
      defaultTopic: topic,
    });
    const events: string[] = [];
    await Promise.all(
      [0, 1, 2].map((n) =>
        producer.transaction(async (tx) => {
          events.push(`start-${n}`);
          await tx.sendBatch(Array.from({ length: 5 }, (_, i) => ({ value: `${n}-${i}` })));
          events.push(`end-${n}`);
        }),
      ),
    );
    expect(events).toEqual(['start-0', 'end-0', 'start-1', 'end-1', 'start-2', 'end-2']);
    const stored = await readAll(kafka, topic, 15);
    expect(stored.map((r) => r.value)).toEqual(
      [0, 1, 2].flatMap((n) => Array.from({ length: 5 }, (_, i) => `${n}-${i}`)),
    );
  });

  it('fences the older producer when another starts with the same transactionalId', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('tx-fenced');
    await createTopic(kafka, topic, 1);
    const transactionalId = uniqueName('tx');
    const options = { brokers: cluster().brokers, value: string(), transactionalId, defaultTopic: topic };
    await using first = createProducer(options);
    await first.transaction(async (tx) => {
      await tx.send({ value: 'from-first' });
    });
    await using second = createProducer(options);
    await second.transaction(async (tx) => {
      await tx.send({ value: 'from-second' });
    });
    const error = await first
      .transaction(async (tx) => {
        await tx.send({ value: 'zombie' });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerFencedError);
    expect(error).toMatchObject({ code: 'CASCADE_PRODUCER_FENCED', retriable: false });
    expect(first.state).toBe('failed');
    await expect(first.transaction(async () => undefined)).rejects.toBeInstanceOf(ProducerFencedError);
    const stored = await readAll(kafka, topic, 2);
    expect(stored.map((r) => r.value)).toEqual(['from-first', 'from-second']);
  });

  it('commits consumer offsets with the transaction through sendOffsets', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('tx-offsets');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic, 2);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      transactionalId: uniqueName('tx'),
    });
    await producer.transaction(async (tx) => {
      await tx.send({ topic, value: 'output', partition: 0 });
      await tx.sendOffsets({
        consumerGroupId: groupId,
        topics: [
          {
            topic,
            partitions: [
              { partition: 0, offset: '7' },
              { partition: 1, offset: '3' },
            ],
          },
        ],
      });
    });
    const aborted = await producer
      .transaction(async (tx) => {
        await tx.sendOffsets({
          consumerGroupId: groupId,
          topics: [{ topic, partitions: [{ partition: 0, offset: '99' }] }],
        });
        throw new Error('abort these offsets');
      })
      .catch((e: unknown) => e);
    expect((aborted as Error).message, String((aborted as Error).cause)).toBe('abort these offsets');
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets?.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset)).toEqual([
        '7',
        '3',
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses send() outside transaction() on a transactional producer, and transaction() without transactionalId', async () => {
    await using transactional = createProducer({
      brokers: cluster().brokers,
      value: string(),
      transactionalId: uniqueName('tx'),
    });
    await expect(transactional.send({ topic: 'any', value: 'x' })).rejects.toBeInstanceOf(
      TransactionStateError,
    );
    await using plain = createProducer({ brokers: cluster().brokers, value: string() });
    await expect(plain.transaction(async () => undefined)).rejects.toMatchObject({
      code: 'CASCADE_PRODUCER_TRANSACTION_STATE',
    });
  });
});
