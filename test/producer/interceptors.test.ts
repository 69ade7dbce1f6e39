// Interceptors on the real broker: onSend changes records, onAcknowledgement sees outcomes,
// a throwing interceptor never loses a record, the built-ins add trace context and count.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createLogger, type LogLevel } from '@cascade/core';
import {
  createProducer,
  metricsInterceptor,
  type ProducerInterceptor,
  producerTraceInterceptor,
  type RecordMetadata,
} from '@cascade/producer';
import { string } from '@cascade/schema';
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName } from '../support/kafka.js';
import { readAll } from './support.js';

describe('producer interceptors', () => {
  it('runs onSend in order (changing records and headers) and reports each acknowledgement', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('icpt-chain');
    await createTopic(kafka, topic, 1);
    const acks: Array<{ value: string; outcome: RecordMetadata | Error }> = [];
    const upper: ProducerInterceptor<string | Buffer, string> = {
      onSend: (record) => ({ ...record, value: record.value.toUpperCase() }),
    };
    const tag: ProducerInterceptor<string | Buffer, string> = {
      onSend: (record) => ({ ...record, headers: { ...record.headers, tagged: record.value } }),
      onAcknowledgement: (outcome, record) => acks.push({ value: record.value, outcome }),
    };
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      interceptors: [upper, tag],
    });
    await producer.sendBatch([
      { topic, value: 'a' },
      { topic, value: 'b' },
    ]);
    const stored = await readAll(kafka, topic, 2);
    expect(stored.map((r) => [r.value, r.headers.tagged])).toEqual([
      ['A', 'A'],
      ['B', 'B'],
    ]);
    expect(acks.map((a) => [a.value, (a.outcome as RecordMetadata).offset])).toEqual([
      ['A', '0'],
      ['B', '1'],
    ]);
  });

  it('logs an interceptor that throws and sends the record unchanged, never losing it', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('icpt-throw');
    await createTopic(kafka, topic, 1);
    const lines: Array<{ level: LogLevel; message: string }> = [];
    const logger = createLogger((level, message) => lines.push({ level, message }), { level: 'warn' });
    const broken: ProducerInterceptor<string | Buffer, string> = {
      name: 'broken',
      onSend: () => {
        throw new Error('interceptor bug');
      },
      onAcknowledgement: () => {
        throw new Error('ack bug');
      },
    };
    const seen: string[] = [];
    const after: ProducerInterceptor<string | Buffer, string> = {
      onAcknowledgement: (_outcome, record) => seen.push(record.value),
    };
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      interceptors: [broken, after],
      logger,
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => producer.send({ topic, value: `v${i}` })),
    );
    expect(results).toHaveLength(20);
    const stored = await readAll(kafka, topic, 20);
    expect(stored.map((r) => r.value)).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    expect(seen).toHaveLength(20);
    expect(lines.filter((l) => l.message.includes('onSend threw'))).toHaveLength(20);
    expect(lines.filter((l) => l.message.includes('onAcknowledgement threw'))).toHaveLength(20);
  });

  it('wraps each send with a Temporal-style send(record, next) interceptor', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('icpt-around');
    await createTopic(kafka, topic, 1);
    const seen: string[] = [];
    const around: ProducerInterceptor<string | Buffer, string> = {
      send: async (record, next) => {
        const metadata = await next({ ...record, headers: { ...record.headers, wrapped: 'yes' } });
        seen.push(`${record.value}@${metadata.offset}`);
        return metadata;
      },
    };
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      interceptors: [around],
    });
    await Promise.all([producer.send({ topic, value: 'a' }), producer.send({ topic, value: 'b' })]);
    expect(seen).toEqual(['a@0', 'b@1']);
    const stored = await readAll(kafka, topic, 2);
    expect(stored.map((r) => r.headers.wrapped)).toEqual(['yes', 'yes']);
  });

  it('counts records, bytes, failures and latency with the metrics interceptor', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('icpt-metrics');
    await createTopic(kafka, topic, 2);
    const metrics = metricsInterceptor<string | Buffer, string>();
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      interceptors: [metrics],
    });
    await Promise.all(Array.from({ length: 30 }, (_, i) => producer.send({ topic, value: `value-${i}` })));
    await expect(producer.send({ topic, value: 'bad', partition: 5 })).rejects.toMatchObject({
      code: 'CASCADE_CONFIG',
    });
    const snapshot = metrics.snapshot();
    expect(snapshot.topics[topic]).toMatchObject({
      sent: 31,
      acknowledged: 30,
      failed: 1,
      errors: { CASCADE_CONFIG: 1 },
    });
    expect(snapshot.total.bytes).toBe(
      30 * 24 + [...Array(30).keys()].reduce((sum, i) => sum + `value-${i}`.length, 0),
    );
    expect(snapshot.total.latency.counts.reduce((a, b) => a + b, 0)).toBe(31);
  });
});

describe('trace-context interceptor', () => {
  // A minimal OpenTelemetry setup: an AsyncLocalStorage context manager and a W3C propagator.
  const storage = new AsyncLocalStorage<Context>();
  const propagator: TextMapPropagator = {
    inject(ctx, carrier, setter) {
      const span = trace.getSpanContext(ctx);
      if (span) setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-0${span.traceFlags}`);
    },
    extract: (ctx) => ctx,
    fields: () => ['traceparent'],
  };
  context.setGlobalContextManager({
    active: () => storage.getStore() ?? ROOT_CONTEXT,
    with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
    bind: (_ctx, target) => target,
    enable() {
      return this;
    },
    disable() {
      return this;
    },
  });
  propagation.setGlobalPropagator(propagator);
  afterAll(() => {
    context.disable();
    propagation.disable();
  });

  it("adds the active span's traceparent through @opentelemetry/api, and a fresh one without a span", async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('icpt-trace');
    await createTopic(kafka, topic, 1);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      interceptors: [producerTraceInterceptor()],
    });
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    };
    await context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () =>
      producer.send({ topic, value: 'traced' }),
    );
    await producer.send({ topic, value: 'untraced' });
    await producer.send({
      topic,
      value: 'kept',
      headers: { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' },
    });
    const stored = await readAll(kafka, topic, 3);
    expect(stored[0]?.headers.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(stored[1]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(stored[1]?.headers.traceparent).not.toContain('4bf92f3577b34da6');
    expect(stored[2]?.headers.traceparent).toBe('00-11111111111111111111111111111111-2222222222222222-01');
  });
});
