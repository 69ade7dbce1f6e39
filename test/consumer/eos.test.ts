// Exactly-once processing, proven by killing the consumer process at random points while it
// transforms 20,000 records, restarting it, and counting the output: equal to the input, with no
// duplicates.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createConsumer, SendToDlt } from '@cascade/consumer';
import { string } from '@cascade/schema';
import { describe, expect, it } from 'vitest';
import { transactionalIdFor } from '../../packages/consumer/src/internal/eos-runner.js';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce, readTopic, text } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/eos-transform.ts', import.meta.url));

function startTransformer(args: string[]): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@cascade/source', fixture, ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    lines.once('line', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`transformer exited with ${code} before it was ready`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('exactly-once', () => {
  it('names one transactional id per input partition', () => {
    expect(transactionalIdFor('billing', 'orders', 3)).toBe('billing-orders-3');
  });

  it("retries a failing handler inside the batch, dead-letters in the same transaction, and discards a failed attempt's sends", async () => {
    const kafka = kafkaClient();
    const input = uniqueName('eos-in');
    const output = uniqueName('eos-out');
    const groupId = uniqueName('eos');
    await createTopic(kafka, input);
    await createTopic(kafka, output);
    await createTopic(kafka, `${input}.dlt`);
    await produce(
      kafka,
      input,
      Array.from({ length: 10 }, (_, i) => ({ value: String(i) })),
    );
    const attempts = new Map<string, number>();
    const afterCommit: { value: string; visible: Promise<boolean> }[] = [];
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      eos: { producer: { compression: 'gzip' } },
    });
    consumer.subscribe({
      topic: input,
      value: string(),
      tombstones: 'skip',
      retry: { maximumAttempts: 3, initialIntervalMs: 10, jitter: 0 },
      handler: (message, context) => {
        attempts.set(message.value, (attempts.get(message.value) ?? 0) + 1);
        context.send({ topic: output, value: `out-${message.value}#${message.attempt}` });
        context.afterCommit(() =>
          afterCommit.push({
            value: `${message.value}#${message.attempt}`,
            // By now the transaction has committed this record's offset. The broker writes the
            // commit markers after EndTxn answers, so an offset fetch (kafkajs has no
            // require_stable) may still see the previous offset for a moment: poll briefly.
            visible: waitFor(
              async () => BigInt((await committed(kafka, groupId, input))[0] ?? '0') > BigInt(message.offset),
              () => `offset ${message.offset} committed`,
              10_000,
            ).then(
              () => true,
              () => false,
            ),
          }),
        );
        if (message.value === '3' && message.attempt === 1) throw new Error('transient');
        if (message.value === '5') throw new SendToDlt('bad record');
      },
    });
    await consumer.start();
    await waitFor(
      async () => (await committed(kafka, groupId, input))[0] === '10',
      () => 'all 10 input offsets committed with the transactions',
    );
    await consumer.stop();
    const outputs = (await readTopic(kafka, output, 9)).map((r) => r.value?.toString());
    expect(outputs).toEqual([
      'out-0#1',
      'out-1#1',
      'out-2#1',
      'out-3#2',
      'out-4#1',
      'out-6#1',
      'out-7#1',
      'out-8#1',
      'out-9#1',
    ]);
    const [dead] = await readTopic(kafka, `${input}.dlt`, 1);
    expect(dead?.value?.toString()).toBe('5');
    expect(text(dead?.headers?.['kafka_dlt-exception-message'])).toBe('bad record');
    expect(attempts.get('3')).toBe(2);
    expect(attempts.get('5')).toBe(1);
    // afterCommit callbacks run for the attempts whose transaction committed, only after it did.
    expect(afterCommit.map((entry) => entry.value)).toEqual(
      outputs.map((value) => value?.replace('out-', '')),
    );
    expect(await Promise.all(afterCommit.map((entry) => entry.visible))).toEqual(afterCommit.map(() => true));
  });

  it('handles main-topic records while a retry-topic record waits for its due time, and the retry record once it is due', async () => {
    const kafka = kafkaClient();
    const input = uniqueName('eos-in');
    const groupId = uniqueName('eos');
    for (const topic of [input, `${input}.retry.1`, `${input}.dlt`]) await createTopic(kafka, topic);
    await produce(kafka, input, [{ value: 'bad' }]);
    const seen: Array<{ value: string; topic: string; attempt: number; at: number; dueAt: number }> = [];
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      fetchMaxWaitMs: 100,
      eos: {},
    });
    consumer.subscribe({
      topic: input,
      value: string(),
      tombstones: 'skip',
      retry: { maximumAttempts: 1 },
      retryTopics: { delaysMs: [3_000] },
      handler: (message) => {
        seen.push({
          value: message.value,
          topic: message.topic,
          attempt: message.attempt,
          at: Date.now(),
          dueAt: Number(text(message.headers['cascade-retry-due-at']) ?? 0),
        });
        if (message.value === 'bad' && message.topic === input) throw new Error('not yet');
      },
    });
    try {
      await consumer.start();
      // The failed record is in the retry topic once the transaction forwarding it committed.
      await waitFor(
        async () => (await committed(kafka, groupId, input))[0] === '1',
        () => 'the failed record forwarded to the retry topic',
      );
      const forwardedAt = Date.now();
      await produce(kafka, input, [{ value: 'good' }]);
      await waitFor(
        () => seen.some((s) => s.value === 'good'),
        () => `the main-topic record handled; seen ${JSON.stringify(seen)}`,
      );
      // (The retry record was written in a transaction: its commit marker follows it, at offset 1.)
      await waitFor(
        async () => Number((await committed(kafka, groupId, `${input}.retry.1`))[0]) >= 1,
        () => `the retry record handled; seen ${JSON.stringify(seen)}`,
      );
      expect(seen.map((s) => [s.value, s.topic, s.attempt])).toEqual([
        ['bad', input, 1],
        ['good', input, 1],
        ['bad', `${input}.retry.1`, 2],
      ]);
      const [, good, retried] = seen;
      const dueAt = retried?.dueAt ?? 0;
      process.stderr.write(
        `[eos] main record handled ${(good?.at ?? 0) - forwardedAt} ms after the forward, ` +
          `${dueAt - (good?.at ?? 0)} ms before the retry record was due; retry handled ${(retried?.at ?? 0) - dueAt} ms after due\n`,
      );
      // The main topic was not held up by the waiting retry record...
      expect(good?.at).toBeLessThan(dueAt);
      // ...and the retry record was handled at or after its due time, not long after.
      expect(retried?.at).toBeGreaterThanOrEqual(dueAt);
      expect((retried?.at ?? 0) - dueAt).toBeLessThan(2_000);
    } finally {
      await consumer.stop();
    }
  });

  it('outputs each of 20,000 records exactly once although the process is killed three times mid-stream', async () => {
    const kafka = kafkaClient();
    const input = uniqueName('eos-in');
    const output = uniqueName('eos-out');
    const groupId = uniqueName('eos');
    await createTopic(kafka, input, 4);
    await createTopic(kafka, output, 4);
    const total = 20_000;
    await produce(
      kafka,
      input,
      Array.from({ length: total }, (_, i) => ({ key: `k${i % 97}`, value: String(i) })),
    );
    const args = [cluster().brokers.join(','), input, output, groupId];
    const progress = async (): Promise<number> =>
      Object.values(await committed(kafka, groupId, input)).reduce((n, o) => n + Math.max(0, Number(o)), 0);

    let kills = 0;
    const killedAt: number[] = [];
    let lastProgress = -1;
    while (kills < 3) {
      const child = await startTransformer(args);
      const before = await progress();
      // Kill at a random point after some progress was committed in this run.
      const target = before + 1 + Math.floor(Math.random() * 1_500);
      await waitFor(
        async () => (await progress()) >= Math.min(target, total) || child.exitCode !== null,
        () => `progress past ${target}`,
        60_000,
        10,
      );
      child.kill('SIGKILL');
      await exited(child);
      kills++;
      const now = await progress();
      killedAt.push(now);
      expect(now).toBeGreaterThan(lastProgress);
      lastProgress = now;
      if (now >= total) break;
    }
    const last = await startTransformer(args);
    await waitFor(
      async () => (await progress()) >= total,
      () => `all ${total} input records committed`,
      120_000,
      200,
    );
    last.kill('SIGTERM');
    await exited(last);

    // Read the whole output, read_committed, up to its high watermarks.
    const admin = kafka.admin();
    await admin.connect();
    const highs = await admin.fetchTopicOffsets(output);
    await admin.disconnect();
    const counts = new Map<string, number>();
    let received = 0;
    const reachedEnd = new Map<number, boolean>();
    const reader = kafka.consumer({ groupId: uniqueName('reader'), readUncommitted: false });
    await reader.connect();
    await reader.subscribe({ topic: output, fromBeginning: true });
    reader.on(reader.events.END_BATCH_PROCESS, ({ payload }) => {
      const high = Number(highs.find((h) => h.partition === payload.partition)?.high ?? 0);
      if (Number(payload.lastOffset) >= high - 1) reachedEnd.set(payload.partition, true);
    });
    await reader.run({
      eachMessage: async ({ message }) => {
        received++;
        const value = message.value?.toString() ?? '';
        counts.set(value, (counts.get(value) ?? 0) + 1);
      },
    });
    await waitFor(
      () => reachedEnd.size === highs.filter((h) => Number(h.high) > 0).length && received >= total,
      () => `the end of every output partition; ${received} records so far`,
      60_000,
    );
    await reader.disconnect();
    // Three kills, each mid-stream (after some progress, before the end).
    expect(kills).toBe(3);
    expect(killedAt.every((n) => n > 0 && n < total)).toBe(true);
    process.stderr.write(`[eos] killed at committed input ${killedAt.join(', ')} of ${total}\n`);
    expect(received).toBe(total);
    expect(counts.size).toBe(total);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.has('out-0') && counts.has(`out-${total - 1}`)).toBe(true);
  });
});
