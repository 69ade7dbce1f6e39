// What the record processor logs when it dead-letters: "Record dead-lettered." only once the
// record is in the DLT (acknowledged, or in exactly-once mode its transaction committed), and an
// error of its own for each failed DLT write.
import { createLogger, type LogLevel, type LogMeta } from '@cascade/core';
import { string } from '@cascade/schema';
import type { FetchedRecord } from '@cascade/transport';
import { describe, expect, it } from 'vitest';
import type { Publisher, RepublishRecord } from './publisher.js';
import { type OutputSink, RecordProcessor, type Source } from './record-processor.js';
import { resolveSubscription } from './subscription.js';

function harness(send: (record: RepublishRecord) => Promise<void>) {
  const lines: Array<{ level: LogLevel; message: string; meta: LogMeta }> = [];
  const logger = createLogger((level, message, meta) => lines.push({ level, message, meta }), {
    level: 'debug',
  });
  const reported: Error[] = [];
  const publisher: Publisher = { send, close: async () => {} };
  const processor = new RecordProcessor({
    groupId: 'billing',
    logger,
    handlerTimeoutMs: 0,
    interceptors: [],
    publisher,
    onError: (error) => reported.push(error),
    timestampTypeOf: () => 'CreateTime',
  });
  const subscription = resolveSubscription({ topic: 'orders', value: string(), handler: async () => {} }, 0);
  const source: Source = { subscription, topic: 'orders', partition: 2, retryStage: 0, baseTopic: 'orders' };
  const raw: FetchedRecord = {
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    offset: '41',
    timestamp: '1700000000000',
    headers: {},
  };
  const signals = { dispatch: new AbortController().signal, abandon: new AbortController().signal };
  const deadLetter = (sink?: OutputSink) =>
    processor.deadLetter(
      source,
      raw,
      {},
      processor.originalOf(source, raw),
      new Error('bad card'),
      3,
      signals,
      sink,
    );
  const messages = () => lines.map((l) => `${l.level} ${l.message}`);
  return { lines, messages, reported, deadLetter };
}

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('dead-letter logging', () => {
  it('logs "Record dead-lettered." only after the DLT write is acknowledged', async () => {
    const ack = deferred();
    const sent: string[] = [];
    const { lines, messages, deadLetter } = harness(async (record) => {
      sent.push(record.topic);
      await ack.promise;
    });
    const done = deadLetter();
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual(['orders.dlt']);
    expect(messages()).toEqual([]);
    ack.resolve();
    await done;
    expect(messages()).toEqual(['warn Record dead-lettered.']);
    expect(lines[0]?.meta).toMatchObject({
      topic: 'orders',
      partition: 2,
      offset: '41',
      attempts: 3,
      target: 'orders.dlt',
      error: { name: 'Error', message: 'bad card' },
    });
  });

  it('logs an error for a failed DLT write, and "dead-lettered" once a later write succeeds', async () => {
    let calls = 0;
    const { lines, messages, reported, deadLetter } = harness(async () => {
      calls++;
      if (calls === 1) throw new Error('NOT_ENOUGH_REPLICAS');
    });
    await deadLetter();
    expect(messages()).toEqual([
      'error Could not publish the failed record (topic orders, partition 2, offset 41) to orders.dlt. The partition does not advance until it succeeds; check that orders.dlt exists and is writable.',
      'info Publish succeeded; the partition advances again.',
      'warn Record dead-lettered.',
    ]);
    expect(lines[0]?.meta).toMatchObject({ attempt: 1, error: { message: 'NOT_ENOUGH_REPLICAS' } });
    expect(reported.map((e) => e.name)).toEqual(['DltPublishError']);
  });

  it('in exactly-once mode logs "Record dead-lettered." when the transaction commits, not when the record is queued', async () => {
    const { messages, deadLetter } = harness(() =>
      Promise.reject(new Error('no publisher in exactly-once mode')),
    );
    const queued: string[] = [];
    const afterCommit: Array<() => void> = [];
    await deadLetter((records, callbacks = []) => {
      queued.push(...records.map((r) => r.topic));
      afterCommit.push(...callbacks);
    });
    expect(queued).toEqual(['orders.dlt']);
    expect(messages()).toEqual([]);
    for (const callback of afterCommit) callback();
    expect(messages()).toEqual(['warn Record dead-lettered.']);
  });
});
