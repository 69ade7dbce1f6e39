// registryAvro bytes through a real Kafka topic: what a consumer gets back decodes to the values
// sent, and a garbage record in between fails as a poison pill carrying its real partition and
// offset, while the records around it still decode.
import { DeserializationError, registryAvro, SchemaRegistry, string } from '@cascade/schema';
import { afterAll, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { caught } from './caught.js';

const schema = {
  type: 'record',
  name: 'Payment',
  namespace: 'com.acme.payments',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
} as const;

const registry = new SchemaRegistry({ url: cluster().registryUrl });
afterAll(() => registry.close());

it('decodes what went through Kafka and pins a poison pill to its partition and offset', async () => {
  const kafka = kafkaClient();
  const topic = uniqueName('payments');
  await createTopic(kafka, topic, 1);
  const key = string();
  const value = registryAvro({ registry, schema });
  const sent = [
    { id: 'p-1', amount: '10.50', at: new Date('2026-01-01T00:00:00.000Z') },
    { id: 'p-2', amount: '-0.01', at: new Date('2026-01-02T00:00:00.000Z') },
  ];
  const out = { topic, headers: {}, isKey: false };
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: [
        {
          key: await key.serialize('p-1', { ...out, isKey: true }),
          value: await value.serialize(sent[0] as (typeof sent)[0], out),
        },
        { key: 'garbage', value: Buffer.from('not a registry payload') },
        {
          key: await key.serialize('p-2', { ...out, isKey: true }),
          value: await value.serialize(sent[1] as (typeof sent)[0], out),
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }

  const received: Array<{ partition: number; offset: string; value: Buffer; key: Buffer }> = [];
  const consumer = kafka.consumer({ groupId: uniqueName('group') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          partition,
          offset: message.offset,
          value: message.value ?? Buffer.alloc(0),
          key: message.key ?? Buffer.alloc(0),
        });
      },
    });
    await waitFor(
      () => received.length === 3,
      () => `3 records, got ${received.length}`,
    );
  } finally {
    await consumer.disconnect();
  }

  const decode = (r: (typeof received)[number]) =>
    value.deserialize(r.value, {
      topic,
      headers: {},
      isKey: false,
      partition: r.partition,
      offset: r.offset,
    });
  const [first, garbage, third] = received as [
    (typeof received)[0],
    (typeof received)[0],
    (typeof received)[0],
  ];
  expect(await decode(first)).toEqual(sent[0]);
  expect(await key.deserialize(first.key, { topic, headers: {}, isKey: true })).toBe('p-1');
  expect(await decode(third)).toEqual(sent[1]);
  const error = await caught(() => decode(garbage));
  expect(error).toBeInstanceOf(DeserializationError);
  expect(error).toMatchObject({
    reason: 'bad-magic-byte',
    topic,
    partition: 0,
    offset: '1',
    retriable: false,
  });
});
