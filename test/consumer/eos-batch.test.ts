// Batch handlers in exactly-once mode: the handler's sends, the dead letters of poison pills,
// the records forwarded to retry topics, and the batch's offsets commit in one transaction.
import { createConsumer, type Message } from '@cascade/consumer';
import { json } from '@cascade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce, readTopic, text } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Item {
  readonly id: string;
}

function eosConsumer(groupId: string) {
  const consumer = createConsumer({
    kafka: { brokers: cluster().brokers },
    groupId,
    fromBeginning: true,
    eos: {},
  });
  cleanups.push(() => consumer.stop());
  return consumer;
}

describe('batch handlers in exactly-once mode', () => {
  it("runs the batch handler and commits its sends with the batch's offsets; a failed attempt's sends are discarded", async () => {
    const kafka = kafkaClient();
    const input = uniqueName('eos-batch-in');
    const output = uniqueName('eos-batch-out');
    const groupId = uniqueName('eos-batch');
    for (const topic of [input, output, `${input}.dlt`]) await createTopic(kafka, topic);
    const ids = Array.from({ length: 10 }, (_, i) => `i${i}`);
    // One poison pill among them: dead-lettered in the transaction, the others handled.
    await produce(kafka, input, [
      ...ids.slice(0, 4).map((id) => ({ value: JSON.stringify({ id }) })),
      { value: '{not json' },
      ...ids.slice(4).map((id) => ({ value: JSON.stringify({ id }) })),
    ]);
    const calls: string[][] = [];
    const afterCommit: Array<{ ids: string[]; visible: Promise<boolean> }> = [];
    const consumer = eosConsumer(groupId);
    consumer.subscribe({
      topic: input,
      value: json<Item>(),
      tombstones: 'skip',
      retry: { maximumAttempts: 3, initialIntervalMs: 10, jitter: 0 },
      batchHandler: (messages: readonly Message<string, Item>[], context) => {
        calls.push(messages.map((m) => `${m.value.id}#${m.attempt}`));
        for (const m of messages) context.send({ topic: output, value: `out-${m.value.id}#${m.attempt}` });
        const last = messages[messages.length - 1] as Message<string, Item>;
        context.afterCommit(() =>
          afterCommit.push({
            ids: messages.map((m) => m.value.id),
            visible: committed(kafka, groupId, input).then(
              (offsets) => BigInt(offsets[0] ?? '0') > BigInt(last.offset),
            ),
          }),
        );
        if (calls.length === 1) throw new Error('transient');
      },
    });
    await consumer.start();
    await waitFor(
      async () => (await committed(kafka, groupId, input))[0] === '11',
      () => 'all 11 input offsets committed with the transactions',
    );
    await consumer.stop();
    const outputs = (await readTopic(kafka, output, 10, 10_000)).map((r) => r.value?.toString());
    const first = calls[0] ?? [];
    // The first call failed and was retried in place: its sends never became visible.
    expect(calls[1]).toEqual(first.map((entry) => entry.replace('#1', '#2')));
    expect(outputs.filter((value) => value?.endsWith('#1') && first.includes(value.slice(4)))).toEqual([]);
    expect(outputs.map((value) => value?.replace(/^out-/, '').replace(/#\d$/, ''))).toEqual(ids);
    expect(outputs).toEqual(calls.slice(1).flatMap((call) => call.map((entry) => `out-${entry}`)));
    const [dead] = await readTopic(kafka, `${input}.dlt`, 1, 10_000);
    expect(dead?.value?.toString()).toBe('{not json');
    expect(text(dead?.headers?.['cascade-dlt-error-class'])).toBe('DeserializationError');
    // afterCommit callbacks ran for the committed calls only, after their transaction committed.
    expect(afterCommit.flatMap((entry) => entry.ids)).toEqual(ids);
    expect(await Promise.all(afterCommit.map((entry) => entry.visible))).toEqual(afterCommit.map(() => true));
  });

  it('forwards the records of a failed batch to the retry topic in its transaction, and hands them to the batch handler when due', async () => {
    const kafka = kafkaClient();
    const input = uniqueName('eos-batch-in');
    const output = uniqueName('eos-batch-out');
    const groupId = uniqueName('eos-batch');
    for (const topic of [input, output, `${input}.retry.1`, `${input}.dlt`]) await createTopic(kafka, topic);
    await produce(kafka, input, [{ value: JSON.stringify({ id: 'flaky' }) }]);
    const seen: Array<{
      id: string;
      attempt: number;
      topic: string;
      original: string;
      at: number;
      dueAt: number;
    }> = [];
    const consumer = eosConsumer(groupId);
    consumer.subscribe({
      topic: input,
      value: json<Item>(),
      tombstones: 'skip',
      retry: { maximumAttempts: 2, initialIntervalMs: 10, jitter: 0 },
      retryTopics: { delaysMs: [1_000] },
      batchHandler: (messages: readonly Message<string, Item>[], context) => {
        for (const m of messages) {
          seen.push({
            id: m.value.id,
            attempt: m.attempt,
            topic: m.topic,
            original: `${m.original.topic}/${m.original.offset}`,
            at: Date.now(),
            dueAt: Number(text(m.headers['cascade-retry-due-at']) ?? 0),
          });
          context.send({ topic: output, value: `out-${m.value.id}#${m.attempt}` });
        }
        if (messages.some((m) => m.topic === input)) throw new Error('not yet');
      },
    });
    await consumer.start();
    // (The retry record was written in a transaction: its commit marker follows it, at offset 1.)
    await waitFor(
      async () => Number((await committed(kafka, groupId, `${input}.retry.1`))[0]) >= 1,
      () => 'the retry record handled and committed',
    );
    await consumer.stop();
    expect(seen.map((s) => [s.id, s.attempt, s.topic, s.original])).toEqual([
      ['flaky', 1, input, `${input}/0`],
      ['flaky', 2, input, `${input}/0`],
      ['flaky', 3, `${input}.retry.1`, `${input}/0`],
    ]);
    const retried = seen[2];
    expect(retried?.dueAt).toBeGreaterThanOrEqual((seen[1]?.at ?? 0) + 1_000);
    expect(retried?.at).toBeGreaterThanOrEqual(retried?.dueAt ?? Number.POSITIVE_INFINITY);
    expect(await committed(kafka, groupId, input)).toEqual({ 0: '1' });
    expect(await committed(kafka, groupId, `${input}.retry.1`)).toEqual({ 0: '2' });
    // Only the successful attempt's send is visible; the forwarded record carries Cascade's retry headers.
    const outputs = await readTopic(kafka, output, 1, 10_000);
    expect(outputs.map((r) => r.value?.toString())).toEqual(['out-flaky#3']);
    const [forwarded] = await readTopic(kafka, `${input}.retry.1`, 1, 10_000);
    expect(text(forwarded?.headers?.['cascade-retry-attempts'])).toBe('2');
    expect(text(forwarded?.headers?.['cascade-retry-original-topic'])).toBe(input);
  });
});
