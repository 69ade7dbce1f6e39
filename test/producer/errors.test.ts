// Errors on the real broker: each failure surfaces as its typed error with a stable code.
import { ConfigError, createLogger } from '@cascade/core';
import {
  AuthenticationError,
  createProducer,
  KafkaConnectionError,
  ProducerSerializationError,
  RecordTooLargeError,
  UnknownTopicError,
} from '@cascade/producer';
import { json, string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName } from '../support/kafka.js';
import { readAll } from './support.js';

describe('producer errors', () => {
  // The test's own timeout (10 s) is far below maxBlockMs (60 s): a send that waited would fail it.
  it('rejects a send to a topic that does not exist with UnknownTopicError at once, not after maxBlockMs', {
    timeout: 10_000,
  }, async () => {
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      maxBlockMs: 60_000,
    });
    const topic = uniqueName('missing');
    const error = await producer.send({ topic, value: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownTopicError);
    expect(error).toMatchObject({ code: 'CASCADE_PRODUCER_UNKNOWN_TOPIC', topic, retriable: false });
    expect((error as Error).message).toContain(`Topic ${topic} does not exist`);
    // The producer goes on working: the next send to a topic that exists succeeds.
    const kafka = kafkaClient();
    const present = uniqueName('present');
    await createTopic(kafka, present, 1);
    await expect(producer.send({ topic: present, value: 'y' })).resolves.toMatchObject({ topic: present });
  });

  it('rejects an oversized record with RecordTooLargeError and only that record', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('too-large');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '20000' }] }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    await using producer = createProducer({ brokers: cluster().brokers, value: string(), lingerMs: 20 });
    const outcomes = await Promise.allSettled([
      producer.send({ topic, value: 'small-0', partition: 0 }),
      producer.send({ topic, value: 'x'.repeat(50_000), partition: 1 }),
      producer.send({ topic, value: 'small-1', partition: 0 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (outcomes[1] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(RecordTooLargeError);
    expect(reason).toMatchObject({ code: 'CASCADE_PRODUCER_RECORD_TOO_LARGE', topic, partition: 1 });
    // The producer keeps working on that partition afterwards.
    await producer.send({ topic, value: 'small-2', partition: 1 });
    const stored = await readAll(kafka, topic, 3);
    expect(stored.map((r) => [r.partition, r.value])).toEqual([
      [0, 'small-0'],
      [0, 'small-1'],
      [1, 'small-2'],
    ]);
  });

  it('rejects bad options with a ConfigError naming the field', () => {
    const base = { brokers: cluster().brokers, value: string() };
    const cases: Array<[object, string]> = [
      [{ ...base, brokers: ['nope'] }, 'producer.brokers[0]'],
      [{ ...base, value: undefined }, 'producer.value'],
      [{ ...base, acks: 'leader' }, 'producer.acks'],
      [{ ...base, idempotent: false, transactionalId: 'tx' }, 'producer.idempotent'],
      [{ ...base, lingerMs: -5 }, 'producer.lingerMs'],
      [{ ...base, deliveryTimeoutMs: 1_000 }, 'producer.deliveryTimeoutMs'],
      [{ ...base, bufferMemoryBytes: 10, batchBytes: 100 }, 'producer.bufferMemoryBytes'],
      [{ ...base, compression: 'zstd' }, 'producer.compression'],
    ];
    for (const [options, field] of cases) {
      let error: unknown;
      try {
        createProducer(options as never);
      } catch (e) {
        error = e;
      }
      expect(error, field).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
      expect((error as ConfigError).code).toBe('CASCADE_CONFIG');
    }
  });

  it('rejects a value its serde cannot write with a serialization error, and sends the others', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('serde-fail');
    await createTopic(kafka, topic, 1);
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: json<{ n: bigint | number }>(),
    });
    const outcomes = await Promise.allSettled([
      producer.send({ topic, value: { n: 1 } }),
      producer.send({ topic, value: { n: 2n } }),
      producer.send({ topic, value: { n: 3 } }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (outcomes[1] as PromiseRejectedResult).reason as Error & {
      code: string;
      retriable: boolean;
    };
    expect(reason.code).toMatch(/SERIALIZ/);
    expect(reason.retriable).toBe(false);
    const stored = await readAll(kafka, topic, 2);
    expect(stored.map((r) => r.value)).toEqual(['{"n":1}', '{"n":3}']);
    // A producer-side wrapper is used for serdes that throw plain errors.
    await using raw = createProducer({
      brokers: cluster().brokers,
      value: {
        serialize: () => {
          throw new Error('nope');
        },
        deserialize: () => 'x',
      },
    });
    await expect(raw.send({ topic, value: 'x' })).rejects.toBeInstanceOf(ProducerSerializationError);
  });

  it('rejects a bad timestamp with a ConfigError on that send only, and sends the others', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('bad-timestamp');
    await createTopic(kafka, topic, 1);
    await using producer = createProducer({ brokers: cluster().brokers, value: string(), lingerMs: 20 });
    const outcomes = await Promise.allSettled([
      producer.send({ topic, value: 'before', timestamp: 1_700_000_000_000 }),
      producer.send({ topic, value: 'fraction', timestamp: 1_700_000_000_000.5 }),
      producer.send({ topic, value: 'negative', timestamp: -5 }),
      producer.send({ topic, value: 'invalid date', timestamp: new Date('not a date') }),
      producer.send({ topic, value: 'after', timestamp: 1_700_000_000_001 }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    for (const outcome of outcomes.slice(1, 4)) {
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(ConfigError);
      expect((reason as ConfigError).field).toBe('record.timestamp');
    }
    const stored = await readAll(kafka, topic, 2);
    expect(stored.map((r) => [r.value, r.timestamp])).toEqual([
      ['before', '1700000000000'],
      ['after', '1700000000001'],
    ]);
  });

  it('fails to connect to a closed port with KafkaConnectionError', async () => {
    await using producer = createProducer({
      brokers: ['127.0.0.1:1'],
      value: string(),
      connectionTimeoutMs: 500,
      retry: { maximumAttempts: 2, initialIntervalMs: 50 },
    });
    const error = await producer.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaConnectionError);
    expect(error).toMatchObject({ code: 'CASCADE_PRODUCER_CONNECTION', retriable: true });
    expect(producer.state).toBe('failed');
  });

  it('never writes a SASL password to a log line or an error message', async () => {
    const password = 'hunter2-do-not-print';
    const written: string[] = [];
    const logger = createLogger(
      (level, message, meta) => written.push(`${level} ${message} ${JSON.stringify(meta)}`),
      {
        level: 'debug',
      },
    );
    await using producer = createProducer({
      brokers: cluster().brokers,
      value: string(),
      sasl: { mechanism: 'plain', username: 'alice', password },
      logger,
      clientLogLevel: 'debug',
      authenticationTimeoutMs: 2_000,
      retry: { maximumAttempts: 1 },
    });
    // The dev cluster's listener is PLAINTEXT: the SASL handshake fails.
    const error = (await producer.connect().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(written.length).toBeGreaterThan(0);
    const everything = [
      ...written,
      error.message,
      String(error.stack),
      String((error.cause as Error | undefined)?.message),
      JSON.stringify(error),
    ].join('\n');
    expect(everything).not.toContain(password);
  });
});
