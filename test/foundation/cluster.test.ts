// The cluster the testkit starts is real: a Kafka broker that partitions, orders and commits
// transactions, and a Confluent-compatible registry that stores and serves Avro schemas.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function consumeAll(
  consumer: Consumer,
  topic: string,
  expected: number,
): Promise<Array<Pick<EachMessagePayload, 'partition'> & { key: string; value: string; offset: string }>> {
  const received: Array<{ partition: number; key: string; value: string; offset: string }> = [];
  await consumer.connect();
  cleanups.push(() => consumer.disconnect());
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      received.push({
        partition,
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        offset: message.offset,
      });
    },
  });
  await waitFor(
    () => received.length >= expected,
    () => `${expected} records on ${topic}, have ${received.length}`,
  );
  return received;
}

describe('the test cluster', () => {
  it('produces and consumes 1,000 records over a 3-partition topic, in order per partition', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('foundation');
    await createTopic(kafka, topic, 3);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const records = Array.from({ length: 1_000 }, (_, i) => ({ key: `key-${i % 37}`, value: `value-${i}` }));
    for (let i = 0; i < records.length; i += 100) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + 100) });
    }

    const received = await consumeAll(
      kafka.consumer({ groupId: uniqueName('group') }),
      topic,
      records.length,
    );

    expect(received).toHaveLength(1_000);
    expect(new Set(received.map((r) => r.value))).toEqual(new Set(records.map((r) => r.value)));
    expect(new Set(received.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
    // Each key lives on one partition, and within a partition records keep the order they were sent in.
    const partitionOfKey = new Map<string, number>();
    for (const record of received) {
      expect(partitionOfKey.get(record.key) ?? record.partition).toBe(record.partition);
      partitionOfKey.set(record.key, record.partition);
    }
    for (const partition of [0, 1, 2]) {
      const sequence = received.filter((r) => r.partition === partition).map((r) => Number(r.value.slice(6)));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }
  });

  it('registers an Avro schema and reads it back by id from the registry', async () => {
    const registry = new SchemaRegistry({ host: cluster().registryUrl });
    const subject = `${uniqueName('orders')}-value`;
    const schema = {
      type: 'record',
      name: 'OrderPlaced',
      namespace: 'cascade.test',
      fields: [
        { name: 'orderId', type: 'string' },
        { name: 'amountCents', type: 'long' },
      ],
    };

    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    const readBack = await new SchemaRegistry({ host: cluster().registryUrl }).getSchema(id);
    const encoded = await registry.encode(id, { orderId: 'o-1', amountCents: 1999 });

    expect(id).toBeGreaterThan(0);
    expect(readBack.toBuffer({ orderId: 'o-2', amountCents: 5 })).toBeInstanceOf(Buffer);
    expect(encoded.readUInt8(0)).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual({ orderId: 'o-1', amountCents: 1999 });
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
  });

  it('enforces BACKWARD compatibility by default, as Confluent does', async () => {
    const response = await fetch(`${cluster().registryUrl}/config`);
    expect(await response.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('shows a read_committed consumer the committed transaction and not the aborted one', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('tx');
    await createTopic(kafka, topic, 1);
    const producer = kafka.producer({
      transactionalId: uniqueName('tx-producer'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    const committed = await producer.transaction();
    await committed.send({
      topic,
      messages: [
        { key: 'a', value: 'committed-1' },
        { key: 'b', value: 'committed-2' },
      ],
    });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'c', value: 'aborted-1' }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic, messages: [{ key: 'd', value: 'committed-3' }] });
    await last.commit();

    const received = await consumeAll(
      kafka.consumer({ groupId: uniqueName('group'), readUncommitted: false }),
      topic,
      3,
    );
    expect(received.map((r) => r.value)).toEqual(['committed-1', 'committed-2', 'committed-3']);
    // The aborted record and the transaction markers occupy offsets the consumer skips.
    expect(received.map((r) => Number(r.offset))).toEqual([0, 1, 5]);
  });
});
