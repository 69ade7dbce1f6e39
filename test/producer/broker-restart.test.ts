// Failure tests on a broker of our own (the shared cluster is never stopped): a restart in the
// middle of 50,000 idempotent sends, buffer-full back-pressure, and the circuit breaker.
import { createLogger } from '@cascade/core';
import { BufferFullError, CircuitOpenError, createProducer } from '@cascade/producer';
import { string } from '@cascade/schema';
import { type Cluster, startCluster } from '@cascade/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopic, uniqueName, waitFor } from '../support/kafka.js';
import { readAll, storedCount } from './support.js';

let own: Cluster;
let kafka: Kafka;

beforeAll(async () => {
  own = await startCluster({ mode: 'jvm', registry: false });
  kafka = new Kafka({ brokers: own.brokers, clientId: uniqueName('restart'), logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await own?.stop();
});

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('producer across broker failures', () => {
  it('stores exactly 50,000 records, in order per key, when the broker restarts in the middle of idempotent sends', async () => {
    const topic = uniqueName('restart');
    await createTopic(kafka, topic, 3);
    await using producer = createProducer({
      brokers: own.brokers,
      key: string(),
      value: string(),
      lingerMs: 5,
      batchBytes: 16_384,
      retry: { initialIntervalMs: 100, maximumIntervalMs: 1_000 },
    });
    await producer.connect();
    const total = 50_000;
    const sends: Promise<unknown>[] = [];
    let restart: Promise<void> | undefined;
    let brokerDown = false;
    let sentWhileDown = 0;
    for (let i = 0; i < total; i++) {
      sends.push(producer.send({ topic, key: `k-${i % 97}`, value: `r-${i}` }));
      if (brokerDown) sentWhileDown++;
      if (i % 500 === 499) await tick();
      if (i === 15_000) {
        // Once part of what was sent is stored, stop the broker, then keep sending while it is
        // down and starting again: those sends must be retried, and stored exactly once. (Starting
        // the stop in the background raced the sends: sometimes every request beat the stop.)
        await waitFor(
          async () => (await storedCount(kafka, topic)) > 5_000,
          () => 'first records stored',
        );
        await own.stopBroker();
        brokerDown = true;
        restart = own.startBroker().then(() => {
          brokerDown = false;
        });
      }
      if (i === 30_000) await restart;
    }
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    // Sends really met the outage. (Who retried them varies: kafkajs' own retries may cover a short
    // outage before the accumulator's do, so producer.stats.retries is no proof either way.)
    expect(sentWhileDown).toBeGreaterThan(1_000);
    expect(await storedCount(kafka, topic)).toBe(total);
    const stored = await readAll(kafka, topic, total, { timeoutMs: 90_000 });
    expect(stored).toHaveLength(total);
    const values = stored.map((r) => Number(r.value?.slice(2)));
    expect(new Set(values).size).toBe(total);
    // Per key, the records are stored in the order they were sent.
    const lastByKey = new Map<string, number>();
    for (const record of stored) {
      const n = Number(record.value?.slice(2));
      expect(n).toBeGreaterThan(lastByKey.get(record.key ?? '') ?? -1);
      lastByKey.set(record.key ?? '', n);
    }
  });

  it('stores exactly 20,000 records when the broker is killed (SIGKILL) in the middle of idempotent sends', async () => {
    const topic = uniqueName('crash');
    await createTopic(kafka, topic, 2);
    await using producer = createProducer({
      brokers: own.brokers,
      value: string(),
      retry: { initialIntervalMs: 100, maximumIntervalMs: 1_000 },
    });
    await producer.connect();
    const total = 20_000;
    const sends: Promise<unknown>[] = [];
    let crash: Promise<void> | undefined;
    for (let i = 0; i < total; i++) {
      sends.push(producer.send({ topic, key: `k-${i % 31}`, value: `r-${i}` }));
      if (i % 500 === 499) await tick();
      if (i === 5_000) {
        await waitFor(
          async () => (await storedCount(kafka, topic)) > 1_000,
          () => 'first records stored',
        );
        crash = (async () => {
          await own.killBroker();
          await own.startBroker();
        })();
      }
    }
    await crash;
    const outcomes = await Promise.allSettled(sends);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(await storedCount(kafka, topic)).toBe(total);
    const stored = await readAll(kafka, topic, total, { timeoutMs: 90_000 });
    expect(new Set(stored.map((r) => r.value)).size).toBe(total);
  });

  it('makes send() wait while the buffer is full, and fail with BufferFullError after maxBlockMs', async () => {
    const patientTopic = uniqueName('buffer-wait');
    const impatientTopic = uniqueName('buffer-full');
    await createTopic(kafka, patientTopic, 1);
    await createTopic(kafka, impatientTopic, 1);
    const common = {
      brokers: own.brokers,
      value: string(),
      bufferMemoryBytes: 32_768,
      batchBytes: 8_192,
      retry: { initialIntervalMs: 100, maximumIntervalMs: 500 },
    };
    await using patient = createProducer({ ...common, maxBlockMs: 60_000, defaultTopic: patientTopic });
    await using impatient = createProducer({ ...common, maxBlockMs: 300, defaultTopic: impatientTopic });
    await Promise.all([patient.send({ value: 'warm-up' }), impatient.send({ value: 'warm-up' })]);
    await own.stopBroker();
    const value = 'x'.repeat(1_000);
    // 32 KiB of buffer holds about 31 records of 1 KiB; the rest wait.
    const patientSends = Array.from({ length: 100 }, (_, i) => patient.send({ value: `p-${i}-${value}` }));
    const impatientSends = Array.from({ length: 100 }, (_, i) =>
      impatient.send({ value: `i-${i}-${value}` }),
    );
    const impatientSettled = Promise.allSettled(impatientSends);
    await waitFor(
      () => impatient.stats.bufferedRecords > 0 && patient.stats.bufferedRecords > 0,
      () => 'records buffered',
    );
    // The sends that got no room fail after maxBlockMs; the others stay queued for the broker.
    const rejected = await Promise.allSettled(impatientSends.slice(40));
    for (const outcome of rejected) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(BufferFullError);
      expect(reason).toMatchObject({ code: 'CASCADE_PRODUCER_BUFFER_FULL', retriable: true });
    }
    expect(patient.stats.bufferedBytes).toBeLessThanOrEqual(32_768);
    expect(patient.stats.bufferedRecords).toBeLessThan(100);
    await own.startBroker();
    // Every waiting send got in once there was room, in call order.
    const patientResults = await Promise.all(patientSends);
    expect(patientResults.map((r) => Number(r.offset))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const impatientOutcomes = await impatientSettled;
    const admitted = impatientOutcomes.filter((o) => o.status === 'fulfilled');
    // Those that got room are a prefix of the calls; all the others failed with BufferFullError.
    expect(admitted.length).toBeGreaterThan(20);
    expect(impatientOutcomes.slice(0, admitted.length).every((o) => o.status === 'fulfilled')).toBe(true);
    for (const outcome of impatientOutcomes.slice(admitted.length)) {
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(BufferFullError);
    }
    expect(await storedCount(kafka, impatientTopic)).toBe(1 + admitted.length);
    const stored = await readAll(kafka, patientTopic, 101);
    expect(stored.slice(1).map((r) => r.value?.split('-')[1])).toEqual(
      Array.from({ length: 100 }, (_, i) => String(i)),
    );
  });

  it('fails sends fast with CircuitOpenError while the broker is down, logs the change, and closes again', async () => {
    const topic = uniqueName('circuit');
    await createTopic(kafka, topic, 1);
    const logged: string[] = [];
    const logger = createLogger((level, message) => logged.push(`${level} ${message}`), { level: 'info' });
    await using producer = createProducer({
      brokers: own.brokers,
      value: string(),
      logger,
      requestTimeoutMs: 2_000,
      connectionTimeoutMs: 500,
      deliveryTimeoutMs: 3_000,
      retry: { maximumAttempts: 2, initialIntervalMs: 100, maximumIntervalMs: 200 },
      circuitBreaker: { volumeThreshold: 1, errorThresholdPercentage: 1, resetTimeoutMs: 500 },
    });
    await producer.send({ topic, value: 'before' });
    expect(producer.circuitState).toBe('closed');
    await own.stopBroker();
    const first = await producer.send({ topic, value: 'during' }).catch((e: unknown) => e);
    expect(first).toMatchObject({ retriable: true });
    expect(producer.circuitState).toBe('open');
    const started = performance.now();
    const fast = await producer.send({ topic, value: 'fast-fail' }).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect(fast).toMatchObject({ code: 'CASCADE_PRODUCER_CIRCUIT_OPEN', retriable: true, topic });
    expect(performance.now() - started).toBeLessThan(50);
    expect(logged.some((line) => line.startsWith('warn Producer circuit breaker opened'))).toBe(true);
    await own.startBroker();
    await waitFor(
      async () => {
        try {
          await producer.send({ topic, value: 'after' });
          return true;
        } catch {
          return false;
        }
      },
      () => `a send to succeed after the broker came back (circuit ${producer.circuitState})`,
      60_000,
      200,
    );
    expect(producer.circuitState).toBe('closed');
    expect(logged.some((line) => line.startsWith('info Producer circuit breaker closed'))).toBe(true);
  });
});
