// Interceptors and tracing against the real broker: onConsume filters and rewrites, onCommit
// sees commits, the trace-context interceptor continues the producer's trace, and the
// diagnostics channels report each handled record and commit.
import { tracingChannel } from 'node:diagnostics_channel';
import {
  type CommittedOffset,
  consumerTraceInterceptor,
  createConsumer,
  currentTraceContext,
  type TraceContext,
} from '@cascade/consumer';
import { DiagnosticChannels } from '@cascade/core';
import { createProducer, producerTraceInterceptor as producerTrace } from '@cascade/producer';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed } from './helpers.js';

describe('interceptors', () => {
  it("filters and rewrites records, reports commits, and continues the producer's trace", async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('traced');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      interceptors: [producerTrace({ api: null })],
    });
    const sent: string[] = [];
    for (const value of ['keep-1', 'drop', 'keep-2']) {
      await producer.send({ topic, value });
    }
    await producer.flush();
    const handled: Array<{ value: string; trace: TraceContext | undefined; traceparent: string }> = [];
    const commits: CommittedOffset[][] = [];
    const handleStarts: unknown[] = [];
    const commitEnds: unknown[] = [];
    const handleChannel = tracingChannel(DiagnosticChannels.consumerHandle);
    const commitChannel = tracingChannel(DiagnosticChannels.consumerCommit);
    const noop = (): void => {};
    const hooks = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };
    const handleHooks = { ...hooks, start: (ctx: object) => void handleStarts.push(ctx) };
    const commitHooks = { ...hooks, asyncEnd: (ctx: object) => void commitEnds.push(ctx) };
    handleChannel.subscribe(handleHooks);
    commitChannel.subscribe(commitHooks);
    try {
      const consumer = createConsumer({
        kafka: { brokers: cluster().brokers },
        groupId,
        fromBeginning: true,
        interceptors: [
          consumerTraceInterceptor(),
          {
            onConsume: (message) =>
              String(message.value) === 'drop' ? undefined : { ...message, value: message.value },
            onCommit: (offsets) => void commits.push([...offsets]),
          },
        ],
      });
      consumer.subscribe({
        topic,
        value: string(),
        tombstones: 'skip',
        handler: (message) => {
          handled.push({
            value: message.value,
            trace: currentTraceContext(),
            traceparent: String(message.headers.traceparent),
          });
          sent.push(String(message.value));
        },
      });
      await consumer.start();
      await waitFor(
        () => handled.length === 2,
        () => `2 records, got ${handled.length}`,
      );
      await consumer.stop();
    } finally {
      handleChannel.unsubscribe(handleHooks);
      commitChannel.unsubscribe(commitHooks);
    }
    expect(handled.map((h) => h.value)).toEqual(['keep-1', 'keep-2']);
    const produced = await readTraceparents(kafka, topic);
    for (const [index, h] of handled.entries()) {
      const [, traceId, spanId] = (produced[index === 0 ? 0 : 2] ?? '').split('-');
      expect(h.trace?.traceId).toBe(traceId);
      expect(h.trace?.parentSpanId).toBe(spanId);
      expect(h.trace?.spanId).not.toBe(spanId);
      expect(h.traceparent).toBe(h.trace?.traceparent);
    }
    expect(commits.flat().at(-1)).toEqual({ topic, partition: 0, offset: '3' });
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '3' });
    expect(handleStarts.length).toBe(2);
    expect(commitEnds.length).toBeGreaterThanOrEqual(1);
  });
});

async function readTraceparents(kafka: ReturnType<typeof kafkaClient>, topic: string): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  const out: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => void out.push(String(message.headers?.traceparent)),
  });
  await waitFor(
    () => out.length === 3,
    () => 'the 3 produced records',
  );
  await consumer.disconnect();
  return out;
}
