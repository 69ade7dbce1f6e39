// Group membership against the real broker: heartbeats while a handler outlives the session
// timeout, members joining and leaving under load, revocation hooks, seek and replay.
import { createConsumer, type TopicPartition } from '@cascade/consumer';
import { json } from '@cascade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { cluster, createTopic, kafkaClient, uniqueName, waitFor } from '../support/kafka.js';
import { committed, produce } from './helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('group membership', () => {
  it('keeps heartbeating while a handler runs for twice the session timeout: no rebalance, no redelivery', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('long');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic);
    await produce(kafka, topic, [{ value: '"slow"' }, { value: '"fast"' }]);
    const handled: string[] = [];
    const assignments: TopicPartition[][] = [];
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
      onPartitionsAssigned: (partitions) => void assignments.push([...partitions]),
    });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<string>(),
      tombstones: 'skip',
      handler: async (m) => {
        if (m.value === 'slow') await new Promise((resolve) => setTimeout(resolve, 12_000));
        handled.push(m.value);
      },
    });
    await consumer.start();
    await waitFor(
      () => handled.length >= 2,
      () => `both records, got ${handled}`,
      40_000,
    );
    await consumer.stop();
    expect(handled).toEqual(['slow', 'fast']);
    expect(assignments).toEqual([[{ topic, partition: 0 }]]);
    expect(await committed(kafka, groupId, topic)).toEqual({ 0: '2' });
  });

  it('handles every record at least once while a second member joins and leaves under load', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('load');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic, 4);
    const total = 2_000;
    await produce(
      kafka,
      topic,
      Array.from({ length: total }, (_, i) => ({ key: `k${i % 50}`, value: String(i) })),
    );
    const counts = new Map<number, number>();
    const revoked: TopicPartition[][] = [];
    const make = (name: string) => {
      const consumer = createConsumer({
        kafka: { brokers: cluster().brokers, clientId: name },
        groupId,
        fromBeginning: true,
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1_000,
        onPartitionsRevoked: (partitions) => void revoked.push([...partitions]),
      });
      consumer.subscribe({
        topic,
        value: json<number>(),
        tombstones: 'skip',
        handler: async (m) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          counts.set(m.value, (counts.get(m.value) ?? 0) + 1);
        },
      });
      return consumer;
    };
    const first = make('first');
    cleanups.push(() => first.stop());
    await first.start();
    await waitFor(
      () => counts.size >= 300,
      () => `300 records before the join, got ${counts.size}`,
    );
    const second = make('second');
    cleanups.push(() => second.stop());
    await second.start();
    await waitFor(
      () => first.stats().assigned.length === 2 && second.stats().assigned.length === 2,
      () => `2 + 2 partitions, got ${first.stats().assigned.length} + ${second.stats().assigned.length}`,
    );
    await waitFor(
      () => counts.size >= 1_200,
      () => `1,200 records before the leave, got ${counts.size}`,
    );
    await second.stop();
    await waitFor(
      () => counts.size >= total,
      () => `${total} distinct records, got ${counts.size}`,
    );
    await first.stop();
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    // In-flight work finishes and is committed before partitions move, so nothing is redone.
    expect(duplicates).toBe(0);
    expect(revoked.length).toBeGreaterThanOrEqual(2);
    const offsets = await committed(kafka, groupId, topic);
    expect(Object.values(offsets).reduce((n, o) => n + Number(o), 0)).toBe(total);
  });

  it('replays a partition from a timestamp with seek', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('replay');
    await createTopic(kafka, topic);
    const base = Date.now() - 10_000;
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 1, 2, 3].map((i) => ({ value: String(i), timestamp: String(base + i * 1000) })),
    });
    await producer.disconnect();
    const seen: number[] = [];
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId: uniqueName('group'),
      fromBeginning: true,
    });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<number>(),
      tombstones: 'skip',
      handler: (m) => void seen.push(m.value),
    });
    await consumer.start();
    await waitFor(
      () => seen.length >= 4,
      () => `4 records, got ${seen}`,
    );
    await consumer.seek({ topic, partition: 0, timestamp: base + 2000 });
    await waitFor(
      () => seen.length >= 6,
      () => `2 replayed records, got ${seen}`,
    );
    expect(seen).toEqual([0, 1, 2, 3, 2, 3]);
  });

  it('runs onPartitionsAssigned to completion before any record of the assignment is handled', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('assigned');
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: String(i) })),
    );
    const events: string[] = [];
    const consumer = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId: uniqueName('group'),
      fromBeginning: true,
      onPartitionsAssigned: async (partitions) => {
        events.push(`assigned ${partitions.length}`);
        // E.g. a saga coordinator rebuilding its state from the log before handling commands.
        await new Promise((resolve) => setTimeout(resolve, 500));
        events.push('rebuilt');
      },
    });
    cleanups.push(() => consumer.stop());
    consumer.subscribe({
      topic,
      value: json<number>(),
      handler: (m) => void events.push(`handled ${m.value}`),
    });
    await consumer.start();
    // Distinct values: a rebalance (kafkajs may join twice on a loaded machine) hands records
    // again, as at least once allows.
    await waitFor(
      () => new Set(events.filter((e) => e.startsWith('handled'))).size === 20,
      () => `20 distinct records handled, got ${JSON.stringify(events)}`,
    );
    expect(events.slice(0, 2)).toEqual(['assigned 2', 'rebuilt']);
    // After every assignment, no record is handled before its onPartitionsAssigned finished.
    let lastLifecycle = '';
    for (const event of events) {
      if (event.startsWith('handled'))
        expect(lastLifecycle, `${event} in ${JSON.stringify(events)}`).toBe('rebuilt');
      else lastLifecycle = event.startsWith('assigned') ? 'assigned' : event;
    }
  });

  it('on a rebalance, finishes in-flight records and commits them before onPartitionsRevoked, then rejoins', async () => {
    const kafka = kafkaClient();
    const topic = uniqueName('revoke');
    const groupId = uniqueName('group');
    await createTopic(kafka, topic, 2);
    await produce(
      kafka,
      topic,
      Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: String(i) })),
    );
    const counts = new Map<number, number>();
    let handledByFirst = 0;
    let firstRunning = 0;
    const snapshots: Array<{ handled: number; committed: number; running: number }> = [];
    const log: string[] = [];
    const first = createConsumer({
      kafka: { brokers: cluster().brokers },
      groupId,
      fromBeginning: true,
      heartbeatIntervalMs: 200,
      onPartitionsRevoked: async () => {
        const offsets = await committed(kafka, groupId, topic);
        const total = Object.values(offsets).reduce((n, o) => n + Math.max(0, Number(o)), 0);
        snapshots.push({ handled: handledByFirst, committed: total, running: firstRunning });
        log.push(`revoked (committed ${JSON.stringify(offsets)})`);
      },
    });
    cleanups.push(() => first.stop());
    first.subscribe({
      topic,
      value: json<number>(),
      tombstones: 'skip',
      handler: async (m) => {
        firstRunning++;
        await new Promise((resolve) => setTimeout(resolve, 100));
        counts.set(m.value, (counts.get(m.value) ?? 0) + 1);
        log.push(`first ${m.partition}@${m.offset}`);
        handledByFirst++;
        firstRunning--;
      },
    });
    await first.start();
    await waitFor(
      () => handledByFirst >= 3,
      () => 'a few records handled by the first member',
    );
    const second = createConsumer({ kafka: { brokers: cluster().brokers }, groupId, fromBeginning: true });
    cleanups.push(() => second.stop());
    second.subscribe({
      topic,
      value: json<number>(),
      tombstones: 'skip',
      handler: (m) => {
        counts.set(m.value, (counts.get(m.value) ?? 0) + 1);
        log.push(`second ${m.partition}@${m.offset}`);
      },
    });
    await second.start();
    await waitFor(
      () => counts.size === 40,
      () => `40 distinct records, got ${counts.size}`,
    );
    // At revocation nothing was running and everything the first member handled was committed.
    const [atRevoke] = snapshots;
    expect(atRevoke?.running).toBe(0);
    expect(atRevoke?.committed).toBe(atRevoke?.handled);
    const twice = [...counts].filter(([, n]) => n !== 1).map(([value]) => value);
    expect(twice, JSON.stringify({ snapshots, log })).toEqual([]);
  });
});
