// The failure policy against the real broker: in-place retries, retry topics, dead letters with
// Cascade's and Spring's headers, poison pills, SendToDlt / SkipRecord, hanging handlers, and a
// DLT that cannot be written.
import {
  createConsumer,
  type HandlerTimeoutError,
  type Message,
  SendToDlt,
  SkipRecord,
} from '@cascade/consumer';
import { json } from '@cascade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, fastRetry, produce, readTopic, text } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Job {
  readonly id: string;
  readonly fail?: 'always' | 'twice' | 'dlt' | 'skip' | 'type' | 'hang';
}

async function setup(
  partitions = 1,
): Promise<{ kafka: ReturnType<typeof kafkaClient>; topic: string; groupId: string }> {
  const kafka = kafkaClient();
  const topic = uniqueName('jobs');
  await createTopic(kafka, topic, partitions);
  return { kafka, topic, groupId: uniqueName('group') };
}

function consumerFor(groupId: string, extra: { handlerTimeoutMs?: number } = {}) {
  const consumer = createConsumer({
    kafka: { brokers: cluster().brokers },
    groupId,
    fromBeginning: true,
    ...extra,
  });
  cleanups.push(() => consumer.stop());
  return consumer;
}

describe('failure policy', () => {
  it('dead-letters an undeserializable record at once, unretried, with Cascade and Spring headers', async () => {
    const { kafka, topic, groupId } = await setup();
    await createTopic(kafka, `${topic}.dlt`);
    await produce(kafka, topic, [{ value: '{"id":"a"}' }, { value: '{not json' }, { value: '{"id":"c"}' }]);
    const handled: string[] = [];
    const consumer = consumerFor(groupId);
    consumer.subscribe({
      topic,
      value: json<Job>(),
      tombstones: 'skip',
      retry: fastRetry,
      handler: (m) => void handled.push(m.value.id),
    });
    await consumer.start();
    const [dead] = await readTopic(kafka, `${topic}.dlt`, 1);
    await waitFor(
      () => handled.length === 2,
      () => `2 handled, got ${handled}`,
    );
    expect(handled).toEqual(['a', 'c']);
    const headers = dead?.headers ?? {};
    expect(dead?.value?.toString()).toBe('{not json');
    expect(text(headers['cascade-dlt-error-class'])).toBe('DeserializationError');
    expect(text(headers['cascade-dlt-error-code'])).toBe('CASCADE_SERDE_DESERIALIZE');
    expect(text(headers['cascade-dlt-attempts'])).toBe('1');
    expect(text(headers['cascade-dlt-original-topic'])).toBe(topic);
    expect(text(headers['cascade-dlt-original-offset'])).toBe('1');
    expect(text(headers['kafka_dlt-original-topic'])).toBe(topic);
    expect((headers['kafka_dlt-original-partition'] as Buffer).readInt32BE()).toBe(0);
    expect((headers['kafka_dlt-original-offset'] as Buffer).readBigInt64BE()).toBe(1n);
    const originalTimestamp = (headers['kafka_dlt-original-timestamp'] as Buffer).readBigInt64BE();
    expect(originalTimestamp).toBe(BigInt(text(headers['cascade-dlt-original-timestamp']) ?? ''));
    expect(originalTimestamp).toBeLessThanOrEqual(BigInt(dead?.timestamp ?? 0));
    expect(originalTimestamp).toBeGreaterThan(BigInt(Date.now() - 60_000));
    expect(text(headers['kafka_dlt-exception-fqcn'])).toBe('DeserializationError');
    expect(text(headers['kafka_dlt-exception-message'])).toContain('Cannot deserialize');
    expect(text(headers['kafka_dlt-exception-stacktrace'])).toContain('DeserializationError');
    expect(text(headers['kafka_dlt-original-consumer-group'])).toBe(groupId);
    await consumer.stop();
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '3' });
  });

  it("writes the original record's LogAppendTime timestamp and its type to the DLT, as Spring does", async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('appended');
    const groupId = uniqueName('group');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
        waitForLeaders: true,
      });
    } finally {
      await admin.disconnect();
    }
    await createTopic(kafka, `${topic}.dlt`);
    // The producer's timestamp is a day old; the broker replaces it with the time it appended.
    const createTime = Date.now() - 86_400_000;
    const producedFrom = Date.now();
    await produce(kafka, topic, [{ value: '{"id":"a","fail":"dlt"}', timestamp: String(createTime) }]);
    const consumer = consumerFor(groupId);
    consumer.subscribe({
      topic,
      value: json<Job>(),
      handler: () => {
        throw new SendToDlt('rejected');
      },
    });
    await consumer.start();
    const [dead] = await readTopic(kafka, `${topic}.dlt`, 1);
    const headers = dead?.headers ?? {};
    expect(text(headers['kafka_dlt-original-timestamp-type'])).toBe('LogAppendTime');
    const original = Number((headers['kafka_dlt-original-timestamp'] as Buffer).readBigInt64BE());
    expect(original).toBeGreaterThanOrEqual(producedFrom - 1_000);
    expect(original).not.toBe(createTime);
  });

  it('retries in place with backoff, then dead-letters with the attempt count; SendToDlt, SkipRecord and TypeError skip the retries', async () => {
    const { kafka, topic, groupId } = await setup();
    await createTopic(kafka, `${topic}-dlt`);
    const jobs: Job[] = [
      { id: 'ok' },
      { id: 'twice', fail: 'twice' },
      { id: 'always', fail: 'always' },
      { id: 'dlt', fail: 'dlt' },
      { id: 'skip', fail: 'skip' },
      { id: 'type', fail: 'type' },
      { id: 'last' },
    ];
    await produce(
      kafka,
      topic,
      jobs.map((job) => ({ key: job.id, value: JSON.stringify(job) })),
    );
    const attempts: string[] = [];
    const consumer = consumerFor(groupId);
    consumer.subscribe({
      topic,
      value: json<Job>(),
      tombstones: 'skip',
      retry: { ...fastRetry, maximumAttempts: 3 },
      dlt: { topic: 'spring' },
      handler: (m: Message<string, Job>) => {
        attempts.push(`${m.value.id}#${m.attempt}`);
        const fail = m.value.fail;
        if (fail === 'always' || (fail === 'twice' && m.attempt <= 2)) throw new Error(`boom ${m.attempt}`);
        if (fail === 'dlt') throw new SendToDlt('customer unknown');
        if (fail === 'skip') throw new SkipRecord('duplicate');
        if (fail === 'type') throw new TypeError('cannot read x of undefined');
      },
    });
    await consumer.start();
    const dead = await readTopic(kafka, `${topic}-dlt`, 3);
    await waitFor(
      () => attempts.includes('last#1'),
      () => attempts.join(','),
    );
    expect(attempts).toEqual([
      'ok#1',
      'twice#1',
      'twice#2',
      'twice#3',
      'always#1',
      'always#2',
      'always#3',
      'dlt#1',
      'skip#1',
      'type#1',
      'last#1',
    ]);
    expect(
      dead.map((r) => [
        r.key?.toString(),
        text(r.headers?.['cascade-dlt-attempts']),
        text(r.headers?.['kafka_dlt-exception-fqcn']),
      ]),
    ).toEqual([
      ['always', '3', 'Error'],
      ['dlt', '1', 'SendToDlt'],
      ['type', '1', 'TypeError'],
    ]);
    expect(text(dead[0]?.headers?.['kafka_dlt-exception-message'])).toBe('boom 3');
    expect(Number(text(dead[0]?.headers?.['cascade-dlt-failed-at']))).toBeGreaterThan(Date.now() - 60_000);
    await consumer.stop();
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '7' });
  });

  it('walks retry topics after their delays without blocking the main topic, then dead-letters', async () => {
    const { kafka, topic, groupId } = await setup();
    for (const t of [`${topic}.retry.1`, `${topic}.retry.2`, `${topic}.dlt`]) await createTopic(kafka, t);
    await produce(kafka, topic, [{ key: 'bad', value: '{"id":"bad","fail":"always"}' }]);
    const seen: Array<{ id: string; attempt: number; topic: string; at: number; original: string }> = [];
    const consumer = consumerFor(groupId);
    consumer.subscribe({
      topic,
      value: json<Job>(),
      tombstones: 'skip',
      retry: { maximumAttempts: 1 },
      retryTopics: { delaysMs: [300, 600] },
      handler: (m) => {
        seen.push({
          id: m.value.id,
          attempt: m.attempt,
          topic: m.topic,
          at: Date.now(),
          original: `${m.original.topic}/${m.original.offset}`,
        });
        if (m.value.fail === 'always') throw new Error('still failing');
      },
    });
    await consumer.start();
    await waitFor(
      () => seen.length >= 1,
      () => 'first attempt',
    );
    // The main topic keeps flowing while the failed record waits in the retry topics.
    await produce(kafka, topic, [{ key: 'good', value: '{"id":"good"}' }]);
    const [dead] = await readTopic(kafka, `${topic}.dlt`, 1);
    expect(seen.map((s) => [s.id, s.attempt, s.topic, s.original])).toEqual([
      ['bad', 1, topic, `${topic}/0`],
      ['good', 1, topic, `${topic}/1`],
      ['bad', 2, `${topic}.retry.1`, `${topic}/0`],
      ['bad', 3, `${topic}.retry.2`, `${topic}/0`],
    ]);
    const [first, , second, third] = seen;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(290);
    expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(590);
    expect(text(dead?.headers?.['cascade-dlt-original-topic'])).toBe(topic);
    expect(text(dead?.headers?.['cascade-dlt-original-offset'])).toBe('0');
    expect(text(dead?.headers?.['cascade-dlt-attempts'])).toBe('3');
    expect(dead?.headers?.['cascade-retry-attempts']).toBeUndefined();
  });

  it("forwards a failed batch's records to the retry topics, hands them to the batch handler when due, then dead-letters them", async () => {
    const { kafka, topic, groupId } = await setup();
    for (const t of [`${topic}.retry.1`, `${topic}.retry.2`, `${topic}.dlt`]) await createTopic(kafka, t);
    await produce(kafka, topic, [{ key: 'bad', value: '{"id":"bad","fail":"always"}' }]);
    const seen: Array<{
      id: string;
      attempt: number;
      topic: string;
      at: number;
      dueAt: number;
      original: string;
    }> = [];
    const consumer = consumerFor(groupId);
    consumer.subscribe({
      topic,
      value: json<Job>(),
      tombstones: 'skip',
      retry: { ...fastRetry, maximumAttempts: 2 },
      retryTopics: { delaysMs: [300, 600] },
      batchHandler: (messages: readonly Message<string, Job>[]) => {
        for (const m of messages) {
          seen.push({
            id: m.value.id,
            attempt: m.attempt,
            topic: m.topic,
            at: Date.now(),
            dueAt: Number(text(m.headers['cascade-retry-due-at']) ?? 0),
            original: `${m.original.topic}/${m.original.offset}`,
          });
        }
        if (messages.some((m) => m.value.fail === 'always')) throw new Error('still failing');
      },
    });
    await consumer.start();
    await waitFor(
      () => seen.length >= 2,
      () => 'the first two attempts in place',
    );
    // The main topic keeps flowing while the failed batch's record waits in the retry topics.
    await produce(kafka, topic, [{ key: 'good', value: '{"id":"good"}' }]);
    const [dead] = await readTopic(kafka, `${topic}.dlt`, 1);
    expect(seen.map((s) => [s.id, s.attempt, s.topic, s.original])).toEqual([
      ['bad', 1, topic, `${topic}/0`],
      ['bad', 2, topic, `${topic}/0`],
      ['good', 1, topic, `${topic}/1`],
      ['bad', 3, `${topic}.retry.1`, `${topic}/0`],
      ['bad', 4, `${topic}.retry.2`, `${topic}/0`],
    ]);
    const [, second, good, third, fourth] = seen;
    expect(good?.at).toBeLessThan(third?.dueAt ?? 0);
    expect(third?.dueAt).toBeGreaterThanOrEqual((second?.at ?? 0) + 300);
    expect(third?.at).toBeGreaterThanOrEqual(third?.dueAt ?? Number.POSITIVE_INFINITY);
    expect(fourth?.dueAt).toBeGreaterThanOrEqual((third?.at ?? 0) + 600);
    expect(fourth?.at).toBeGreaterThanOrEqual(fourth?.dueAt ?? Number.POSITIVE_INFINITY);
    expect(dead?.key?.toString()).toBe('bad');
    expect(text(dead?.headers?.['cascade-dlt-original-topic'])).toBe(topic);
    expect(text(dead?.headers?.['cascade-dlt-original-offset'])).toBe('0');
    expect(text(dead?.headers?.['cascade-dlt-attempts'])).toBe('4');
    expect(text(dead?.headers?.['kafka_dlt-exception-message'])).toBe('still failing');
    await consumer.stop();
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '2' });
    expect(await committed(kafka, groupId, `${topic}.retry.1`)).toEqual({ 0: '1' });
    expect(await committed(kafka, groupId, `${topic}.retry.2`)).toEqual({ 0: '1' });
  });

  it('times out a hanging handler, aborts its signal, and dead-letters it after the retries', async () => {
    const { kafka, topic, groupId } = await setup();
    await createTopic(kafka, `${topic}.dlt`);
    await produce(kafka, topic, [{ value: '{"id":"hang","fail":"hang"}' }, { value: '{"id":"next"}' }]);
    const aborted: unknown[] = [];
    const handled: string[] = [];
    const consumer = consumerFor(groupId, { handlerTimeoutMs: 200 });
    consumer.subscribe({
      topic,
      value: json<Job>(),
      tombstones: 'skip',
      retry: { ...fastRetry, maximumAttempts: 2 },
      handler: async (m) => {
        if (m.value.fail === 'hang') {
          m.signal.addEventListener('abort', () => aborted.push(m.signal.reason));
          await new Promise(() => {});
        }
        handled.push(m.value.id);
      },
    });
    await consumer.start();
    const [dead] = await readTopic(kafka, `${topic}.dlt`, 1);
    await waitFor(
      () => handled.includes('next'),
      () => 'the record after the hanging one',
    );
    expect(aborted).toHaveLength(2);
    expect((aborted[0] as HandlerTimeoutError).code).toBe('CASCADE_CONSUMER_HANDLER_TIMEOUT');
    expect(text(dead?.headers?.['cascade-dlt-error-class'])).toBe('HandlerTimeoutError');
    expect(text(dead?.headers?.['cascade-dlt-attempts'])).toBe('2');
  });

  it('stops the partition when the DLT cannot be written, and goes on once it can', async () => {
    const { kafka, topic, groupId } = await setup();
    await produce(kafka, topic, [{ value: '{"id":"a"}' }, { value: 'garbage' }, { value: '{"id":"c"}' }]);
    const handled: string[] = [];
    const errors: Array<{ code?: string }> = [];
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      commitIntervalMs: 50,
      onError: (error) => errors.push(error as { code?: string }),
    });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<Job>(),
      tombstones: 'skip',
      handler: (m) => void handled.push(m.value.id),
    });
    await consumer.start();
    await waitFor(
      () => errors.length > 0,
      () => 'the DLT publish error',
    );
    expect(errors[0]?.code).toBe('CASCADE_CONSUMER_DLT_PUBLISH');
    await waitFor(
      async () => (await committed(kafka, groupId, topic))[0] === '1',
      () => 'the commit up to the poison record',
    );
    expect(handled).toEqual(['a']);
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '1' });
    await createTopic(kafka, `${topic}.dlt`);
    const [dead] = await readTopic(kafka, `${topic}.dlt`, 1);
    expect(dead?.value?.toString()).toBe('garbage');
    await waitFor(
      () => handled.length === 2,
      () => `c handled, got ${handled}`,
    );
    expect(handled).toEqual(['a', 'c']);
    await consumer.stop();
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '3' });
  });
});
