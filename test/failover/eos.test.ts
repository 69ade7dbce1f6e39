// Exactly-once consume-transform-produce on a three-node cluster (RF 3, min ISR 2, racks r1-r3)
// while brokers die: first the one hosting the group coordinator, then (once it is back) the one
// hosting the transaction coordinator of a transactional id in use. 20,000 records stream into
// the input; the output, read read_committed, must hold each input record exactly once.
import { createConsumer } from '@cascade/consumer';
import { createLogger, type LogMeta } from '@cascade/core';
import { json } from '@cascade/schema';
import { type Cluster, startCluster } from '@cascade/testkit';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactionalIdFor } from '../../packages/consumer/src/internal/eos-runner.js';
import { uniqueName, waitFor } from '../support/kafka.js';
import { failoverLogger, rawClient, type StreamValue, steadyStream } from './consumer-stream.js';
import { createTopics, readCommitted, readToHighWatermark } from './producer-support.js';

const total = 20_000;
const partitions = 6;

describe('exactly-once processing on three brokers', () => {
  let cluster: Cluster;
  let kafka: Kafka;

  beforeAll(async () => {
    cluster = await startCluster({ mode: 'jvm', nodes: 3, racks: ['r1', 'r2', 'r3'], registry: false });
    kafka = rawClient(cluster.brokers, uniqueName('eos-failover'));
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('outputs each of 20,000 records exactly once while the group and transaction coordinators’ brokers are killed', async () => {
    const input = uniqueName('eos-failover-in');
    const output = uniqueName('eos-failover-out');
    const groupId = uniqueName('eos-failover');
    const prefix = uniqueName('eos-failover-tx');
    await createTopics(kafka, [
      { topic: input, numPartitions: partitions, replicationFactor: 3 },
      { topic: output, numPartitions: partitions, replicationFactor: 3 },
    ]);
    const warnings: Array<{ at: number; message: string; meta: LogMeta }> = [];
    // CASCADE_FAILOVER_LOG=<file>: the consumer's and kafkajs' logs and the test's steps, to look
    // into a run by hand.
    const trace = failoverLogger('eos');
    const step = (message: string, meta: LogMeta = {}) =>
      trace?.info(`test: ${message}`, { handled: handled.size, sent: sent(), ...meta });
    let sent = () => 0;
    const handled = new Set<number>();
    const consumer = createConsumer({
      kafka: {
        brokers: cluster.brokers,
        clientId: uniqueName('eos-failover'),
        requestTimeoutMs: 5_000,
        retry: { initialIntervalMs: 100, maximumIntervalMs: 1_000 },
        logger: createLogger(
          (level, message, meta) => {
            if (level === 'warn' || level === 'error') warnings.push({ at: Date.now(), message, meta });
            trace?.[level](message, meta);
          },
          { level: trace === undefined ? 'warn' : 'debug' },
        ),
        ...(trace === undefined ? {} : { clientLogLevel: 'debug' as const }),
      },
      groupId,
      fromBeginning: true,
      eos: { transactionalIdPrefix: prefix, transactionTimeoutMs: 30_000 },
    });
    consumer.subscribe({
      topic: input,
      value: json<StreamValue>(),
      tombstones: 'skip',
      handler: (message, context) => {
        handled.add(message.value.seq);
        context.send({ topic: output, key: message.key ?? null, value: JSON.stringify(message.value) });
      },
    });
    // About 400 records a second: the stream lasts ~50 s, long enough for both kills.
    const stream = await steadyStream(cluster.brokers, input, { total });
    sent = stream.next;
    const kills: Array<{ what: string; node: number; at: number; backAfterMs: number }> = [];
    try {
      await consumer.start();
      step('consumer started');
      const killWhile = async (what: string, node: number) => {
        await waitFor(
          () => handled.size > 0,
          () => 'records handled before the kill',
        );
        const at = Date.now();
        const before = handled.size;
        step(`killing node ${node} (${what})`);
        await cluster.killNode(node);
        step(`killed node ${node}`);
        // Back: records from the stream handled again, a few seconds' worth.
        await waitFor(
          () => handled.size > before + 1_000 || stream.next() >= total,
          () => `processing going on after node ${node} (${what}) was killed (${handled.size} handled)`,
          90_000,
        );
        kills.push({ what, node, at, backAfterMs: Date.now() - at });
        step(`going on after the kill of node ${node}; restarting it`);
        await cluster.startNode(node);
        step(`node ${node} back`);
      };
      await waitFor(
        () => handled.size >= 3_000,
        () => `3,000 records handled before the first kill (${handled.size})`,
        60_000,
      );
      await killWhile('group coordinator', await cluster.coordinatorOf('group', groupId));
      const transactional = transactionalIdFor(prefix, input, 0);
      await killWhile('transaction coordinator', await cluster.coordinatorOf('transaction', transactional));
      await waitFor(
        () => sent() >= total,
        () => `all ${total} records sent (${sent()})`,
        120_000,
      );
      await stream.stop();
      step('stream stopped', { acked: stream.acked.size });
      await waitFor(
        () => handled.size === stream.acked.size,
        () => `every input record handled (${handled.size} of ${stream.acked.size})`,
        120_000,
      );
      // The last transactions commit.
      await waitFor(
        async () => {
          const { committed, ends } = await positions(kafka, groupId, input);
          return [...ends].every(([partition, end]) => committed.get(partition) === end);
        },
        () => 'every input offset committed',
        60_000,
      );
    } finally {
      await stream.stop();
      await consumer.stop();
      for (const node of cluster.nodes) if (!node.running) await cluster.startNode(node.index);
    }
    const inputs = (await readToHighWatermark(kafka, input))
      .flat()
      .map((r) => (JSON.parse(r.value ?? '') as StreamValue).seq);
    const outputs = (await readCommitted(kafka, output))
      .flat()
      .map((r) => (JSON.parse(r.value ?? '') as StreamValue).seq);
    const aborted = warnings.filter((w) => w.message.startsWith('Exactly-once transaction failed'));
    const figures = {
      input: inputs.length,
      output: outputs.length,
      kills: kills.map(({ what, node, backAfterMs }) => ({ what, node, backAfterMs })),
      // Each abort with the kill it followed: none may follow the group coordinator's alone.
      abortedTransactions: aborted.map((w) => {
        const kill = kills.filter((k) => k.at <= w.at).at(-1);
        return {
          after: kill?.what ?? 'no kill',
          afterMs: w.at - (kill?.at ?? w.at),
          partition: w.meta.partition,
          error: String((w.meta.error as { message?: unknown } | undefined)?.message ?? '').slice(0, 160),
        };
      }),
    };
    // biome-ignore lint/suspicious/noConsole: the measured figures are this test's report
    console.info('exactly-once failover:', JSON.stringify(figures));
    expect(inputs.length).toBeGreaterThanOrEqual(total);
    expect(new Set(inputs).size).toBe(inputs.length);
    expect(outputs.sort((a, b) => a - b)).toEqual(inputs.sort((a, b) => a - b));
  }, 420_000);
});

/** Each partition's committed offset for `groupId`, and its high watermark. */
async function positions(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<{ committed: Map<number, string>; ends: Map<number, string> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return {
      committed: new Map((offsets?.partitions ?? []).map((p) => [p.partition, p.offset])),
      ends: new Map(ends.map((p) => [p.partition, p.high])),
    };
  } finally {
    await admin.disconnect();
  }
}
