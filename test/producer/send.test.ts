// The producer's basic contract on the real broker: typed sends, metadata, batching, close.
import { tracingChannel } from 'node:diagnostics_channel';
import { ClosedError, DiagnosticChannels } from '@cascade/core';
import { createProducer, type ProducerRecord } from '@cascade/producer';
import { json, type Serde, string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName } from '../support/kafka.js';
import { readAll, storedCount } from './support.js';

interface Order {
  readonly id: string;
  readonly total: number;
}

describe('producer send', () => {
  it('sends a typed record and resolves with where the broker stored it', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('send-basic');
    await createTopic(kafka, topic, 3);
    await using producer = createProducer({
      brokers: cluster().brokers,
      key: string(),
      value: json<Order>(),
    });
    const metadata = await producer.send({
      topic,
      key: 'o-1',
      value: { id: 'o-1', total: 42 },
      headers: { source: 'test' },
      timestamp: 1_700_000_000_000,
    });
    expect(metadata).toEqual({
      topic,
      partition: expect.any(Number),
      offset: '0',
      timestamp: 1_700_000_000_000,
    });
    const [stored] = await readAll(kafka, topic, 1);
    expect(stored).toMatchObject({
      partition: metadata.partition,
      offset: '0',
      key: 'o-1',
      value: '{"id":"o-1","total":42}',
      headers: { source: 'test' },
      timestamp: '1700000000000',
    });
  });

  it.each(['none', 'gzip'] as const)(
    'stores every field Cascade encodes as it was sent (compression %s)',
    async (compression) => {
      const kafka = kafkaClient();
      const topic = uniqueName(`send-fields-${compression}`);
      await createTopic(kafka, topic, 1);
      await using producer = createProducer({
        brokers: cluster().brokers,
        key: string() as Serde<string | null>,
        value: string() as Serde<string | null>,
        compression,
        lingerMs: 50,
      });
      const day = 86_400_000;
      const sent: Omit<ProducerRecord<string | null, string | null>, 'topic'>[] = [
        {
          key: 'k-é',
          value: 'first ✓',
          headers: { multi: ['a', 'b'], ünï: 'ç∂' },
          timestamp: 1_700_000_000_000,
        },
        { key: null, value: 'no key', timestamp: 1_700_000_000_000 - 3_000 * day },
        { key: 'tombstone', value: null, timestamp: 0 },
        { key: '', value: '', headers: { empty: '' }, timestamp: 1_700_000_000_001 },
      ];
      // One batch: all four are sent at once and linger together.
      await Promise.all(sent.map((record) => producer.send({ topic, partition: 0, ...record })));
      const stored = await readAll(kafka, topic, sent.length);
      expect(
        stored.map(({ key, value, headers, timestamp }) => ({ key, value, headers, timestamp })),
      ).toEqual([
        { key: 'k-é', value: 'first ✓', headers: { multi: 'a,b', ünï: 'ç∂' }, timestamp: '1700000000000' },
        { key: null, value: 'no key', headers: {}, timestamp: String(1_700_000_000_000 - 3_000 * day) },
        { key: 'tombstone', value: null, headers: {}, timestamp: '0' },
        { key: '', value: '', headers: { empty: '' }, timestamp: '1700000000001' },
      ]);
      expect(producer.stats.requests).toBe(1);
    },
  );

  it('turns 10,000 concurrent sends into a handful of produce requests, each send with its own offset', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('send-batching');
    await createTopic(kafka, topic, 1);
    await using producer = createProducer({ brokers: cluster().brokers, value: string(), lingerMs: 20 });
    await producer.connect();
    const results = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => producer.send({ topic, value: `record-${i}` })),
    );
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 10_000 }, (_, i) => String(i)));
    expect(producer.stats.requests).toBeLessThanOrEqual(10);
    expect(await storedCount(kafka, topic)).toBe(10_000);
    const stored = await readAll(kafka, topic, 10_000);
    expect(stored.map((r) => r.value)).toEqual(Array.from({ length: 10_000 }, (_, i) => `record-${i}`));
  });

  it('flushes queued records, closes once, and refuses sends after close with ClosedError', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('send-close');
    await createTopic(kafka, topic, 2);
    const producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      lingerMs: 60_000,
      defaultTopic: topic,
    });
    const pending = Array.from({ length: 50 }, (_, i) => producer.send({ value: `v${i}`, partition: i % 2 }));
    await expect(producer.flush({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'CASCADE_ABORTED',
    });
    await producer.flush();
    expect((await Promise.all(pending)).length).toBe(50);
    const more = producer.send({ value: 'last' });
    await Promise.all([producer.close(), producer.close()]);
    expect((await more).topic).toBe(topic);
    expect(producer.state).toBe('stopped');
    await expect(producer.send({ value: 'late' })).rejects.toBeInstanceOf(ClosedError);
    await expect(producer.send({ value: 'late' })).rejects.toMatchObject({ code: 'CASCADE_CLOSED' });
    expect(await storedCount(kafka, topic)).toBe(51);
  });
});

describe('producer tombstones', () => {
  it('sends a null value as a tombstone, without calling the value serde', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('send-tombstone');
    await createTopic(kafka, topic, 1);
    await using producer = createProducer({
      brokers: cluster().brokers,
      key: string(),
      value: json<Order | null>(),
    });
    await producer.send({ topic, key: 'o-1', value: { id: 'o-1', total: 1 } });
    await producer.send({ topic, key: 'o-1', value: null });
    const stored = await readAll(kafka, topic, 2);
    expect(stored.map((r) => [r.key, r.value])).toEqual([
      ['o-1', '{"id":"o-1","total":1}'],
      ['o-1', null],
    ]);
  });
});

describe('producer diagnostics', () => {
  it('publishes each send on the cascade:producer:send tracing channel', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('send-diag');
    await createTopic(kafka, topic, 1);
    const events: string[] = [];
    const handlers = {
      start: (ctx: object) => {
        events.push(`start ${(ctx as { topic?: string }).topic}`);
      },
      end: () => undefined,
      asyncStart: () => undefined,
      asyncEnd: (ctx: object) => {
        events.push(`end ${(ctx as { result?: { offset: string } }).result?.offset}`);
      },
      error: () => undefined,
    };
    const channel = tracingChannel(DiagnosticChannels.producerSend);
    channel.subscribe(handlers);
    try {
      await using producer = createProducer({ brokers: cluster().brokers, value: string() });
      await producer.send({ topic, value: 'a' });
      await producer.send({ topic, value: 'b' });
    } finally {
      channel.unsubscribe(handlers);
    }
    expect(events).toEqual([`start ${topic}`, 'end 0', `start ${topic}`, 'end 1']);
  });
});

describe('producer ordering', () => {
  it('keeps per-partition order with several batches in flight and idempotence off', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('order-inflight');
    await createTopic(kafka, topic, 3);
    await using producer = createProducer({
      brokers: cluster().brokers,
      key: string(),
      value: string(),
      idempotent: false,
      acks: 'leader',
      maxInFlight: 5,
      batchBytes: 2_048,
      lingerMs: 0,
    });
    await producer.connect();
    const total = 6_000;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      sends.push(producer.send({ topic, key: `k-${i % 13}`, value: String(i) }));
      if (i % 250 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(sends);
    // Many small batches: far more requests than one, and still in order per partition.
    expect(producer.stats.requests).toBeGreaterThan(20);
    const stored = await readAll(kafka, topic, total);
    const byPartition = new Map<number, number[]>();
    for (const r of stored)
      byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), Number(r.value)]);
    for (const values of byPartition.values()) expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(stored).toHaveLength(total);
  });
});
