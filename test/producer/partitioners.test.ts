// Each partitioner, checked by the partition the broker stored each record in.
import { createProducer, murmur2Partition, Partitioners } from '@cascade/producer';
import { json, string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName } from '../support/kafka.js';
import { readAll } from './support.js';

const partitions = 6;

describe('producer partitioners', () => {
  it('stores keyed records in the partition the Java client picks (murmur2), non-ASCII and empty keys included', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('part-murmur2');
    await createTopic(kafka, topic, partitions);
    await using producer = createProducer({ brokers: cluster().brokers, key: string(), value: string() });
    // Expected partitions for 6 partitions, from the Java client (see murmur2.test.ts).
    const javaChoice: Record<string, number> = {
      '': 3,
      a: 4,
      'order-123': 1,
      ünïcödé: 1,
      日本語のキー: 2,
      '🚀 rocket': 4,
    };
    const keys = [...Object.keys(javaChoice), ...Array.from({ length: 100 }, (_, i) => `key-${i}`)];
    await Promise.all(keys.map((key) => producer.send({ topic, key, value: key })));
    const stored = await readAll(kafka, topic, keys.length);
    expect(stored).toHaveLength(keys.length);
    for (const record of stored) {
      const key = record.key ?? '';
      expect(record.partition).toBe(murmur2Partition(Buffer.from(key), partitions));
      if (key in javaChoice) expect(record.partition).toBe(javaChoice[key]);
    }
  });

  it('partitions by a field of the value with keyField', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('part-keyfield');
    await createTopic(kafka, topic, partitions);
    interface Order {
      readonly id: string;
      readonly customer: string;
    }
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: json<Order>(),
      partitioner: Partitioners.keyField((order: Order) => order.customer),
    });
    const orders = Array.from({ length: 60 }, (_, i) => ({ id: `o-${i}`, customer: `customer-${i % 7}` }));
    await Promise.all(orders.map((value) => producer.send({ topic, value })));
    const stored = await readAll(kafka, topic, orders.length);
    for (const record of stored) {
      const order = JSON.parse(record.value ?? '{}') as Order;
      expect(record.partition).toBe(murmur2Partition(Buffer.from(order.customer), partitions));
    }
  });

  it('keeps null-key records on one partition per batchBytes with uniformSticky', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('part-sticky');
    await createTopic(kafka, topic, partitions);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      batchBytes: 10_000,
      partitioner: Partitioners.uniformSticky(),
    });
    const value = 'x'.repeat(976); // 1,000 bytes per record with the overhead: 10 records per batch
    for (let run = 0; run < 6; run++) {
      await Promise.all(Array.from({ length: 10 }, () => producer.send({ topic, value })));
    }
    const results = await Promise.all(Array.from({ length: 40 }, () => producer.send({ topic, value })));
    // Consecutive records share a partition in runs of 10: one batch each.
    const runs = results.map((r) => r.partition).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    expect(runs).toHaveLength(4);
    const stored = await readAll(kafka, topic, 100);
    const perPartition = new Map<number, number>();
    for (const r of stored) perPartition.set(r.partition, (perPartition.get(r.partition) ?? 0) + 1);
    for (const count of perPartition.values()) expect(count % 10).toBe(0);
  });

  it('spreads null-key records one by one with roundRobin', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('part-rr');
    await createTopic(kafka, topic, partitions);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      partitioner: Partitioners.roundRobin(),
    });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => producer.send({ topic, value: `v${i}` })),
    );
    expect(results.map((r) => r.partition)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    const stored = await readAll(kafka, topic, 12);
    expect(stored.map((r) => [r.partition, r.value])).toEqual(
      [0, 1, 2, 3, 4, 5].flatMap((p) => [
        [p, `v${p}`],
        [p, `v${p + 6}`],
      ]),
    );
  });

  it('uses a custom (record, partitionCount) function, and an explicit partition over any partitioner', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('part-custom');
    await createTopic(kafka, topic, partitions);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: json<{ tenant: number }>(),
      partitioner: (record, partitionCount) => record.value.tenant % partitionCount,
    });
    const results = await Promise.all([
      producer.send({ topic, value: { tenant: 4 } }),
      producer.send({ topic, value: { tenant: 9 } }),
      producer.send({ topic, value: { tenant: 4 }, partition: 0 }),
    ]);
    expect(results.map((r) => r.partition)).toEqual([4, 3, 0]);
    const stored = await readAll(kafka, topic, 3);
    expect(stored.map((r) => [r.partition, r.value])).toEqual([
      [0, '{"tenant":4}'],
      [3, '{"tenant":9}'],
      [4, '{"tenant":4}'],
    ]);
  });
});
