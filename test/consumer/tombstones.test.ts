// Tombstones (null values) on the real broker: by default the handler gets them, typed
// `V | null`; with `tombstones: 'skip'` they are committed without the handler, typed `V`.
import { createConsumer, type Message } from '@cascade/consumer';
import { json } from '@cascade/schema';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce } from './helpers.js';

interface Account {
  readonly balance: number;
}

const records = [
  { key: 'a', value: JSON.stringify({ balance: 1 }) },
  { key: 'b', value: null },
  { key: 'c', value: JSON.stringify({ balance: 3 }) },
  { key: 'a', value: null },
];

async function topicWithTombstones(): Promise<string> {
  const topic = uniqueName('tombstones');
  const kafka = kafkaClient();
  await createTopic(kafka, topic, 1);
  await produce(kafka, topic, records);
  return topic;
}

describe('tombstones', () => {
  it('reach the handler as null values by default, and the value is typed V | null', async () => {
    const topic = await topicWithTombstones();
    const seen: Array<[string | null, Account | null]> = [];
    await using consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId: uniqueName('tomb-handle'),
      fromBeginning: true,
    });
    consumer.subscribe({
      topic,
      value: json<Account>(),
      handler: (message) => {
        expectTypeOf(message.value).toEqualTypeOf<Account | null>();
        seen.push([message.key, message.value]);
      },
    });
    await consumer.start();
    await waitFor(
      () => seen.length >= 4,
      () => `4 records, got ${seen.length}`,
    );
    expect(seen).toEqual([
      ['a', { balance: 1 }],
      ['b', null],
      ['c', { balance: 3 }],
      ['a', null],
    ]);
  });

  it("are committed without the handler with tombstones: 'skip', and the value is typed V", async () => {
    const topic = await topicWithTombstones();
    const groupId = uniqueName('tomb-skip');
    const seen: Array<[string | null, number]> = [];
    await using consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      commitIntervalMs: 100,
    });
    consumer.subscribe({
      topic,
      value: json<Account>(),
      tombstones: 'skip',
      handler: (message: Message<string, Account>) => {
        expectTypeOf(message.value).toEqualTypeOf<Account>();
        seen.push([message.key, message.value.balance]);
      },
    });
    await consumer.start();
    // Every record is committed, the tombstones included: the group's offset is the log end.
    const kafka = kafkaClient();
    await waitFor(
      async () => (await committed(kafka, groupId, topic))[0] === '4',
      () => `offset 4 committed for ${topic}`,
    );
    expect(seen).toEqual([
      ['a', 1],
      ['c', 3],
    ]);
  });

  it('refuse a tombstones option that is neither handle nor skip', () => {
    const consumer = createConsumer({ kafka: { brokers: cluster().brokers }, groupId: 'g' });
    expect(() =>
      consumer.subscribe({
        topic: 't',
        value: json<Account>(),
        tombstones: 'drop' as never,
        handler: () => undefined,
      }),
    ).toThrow(/subscriptions\[0\]\.tombstones/);
  });
});
