// Rack awareness on a three-node cluster whose node i + 1 is in rack r(i + 1) and whose brokers
// serve fetches from followers in the client's rack (RackAwareReplicaSelector, set by the
// testkit): the `rack-aware` assignor gives each member the partitions with a replica in its rack, and the
// assignment follows members that move to other racks (KIP-881); and a consumer with a rackId is
// pointed by the leader at the follower in its rack and fetches from it, while a consumer without
// one fetches from the leader (KIP-392). Which broker served the fetches comes from kafkajs'
// "Request Fetch" / "Response Fetch" debug lines; the figures are printed and kept in
// docs/rack-awareness-notes.md.
import { type Consumer, createConsumer } from '@cascade/consumer';
import type { Logger, LogMeta } from '@cascade/core';
import { string } from '@cascade/schema';
import { type Cluster, startCluster } from '@cascade/testkit';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produce as produceRecords } from '../consumer/helpers.js';
import { uniqueName, waitFor } from '../support/kafka.js';
import { createTopics, rawKafka } from './producer-support.js';

const racks = ['r1', 'r2', 'r3'] as const;
const settleMs = 60_000;

/** One fetch request or response as kafkajs logged it on a connection. */
interface FetchLine {
  readonly kind: 'request' | 'response';
  /** `host:port` of the connection. */
  readonly broker: string;
  /** The request's Fetch version. */
  readonly version: number;
  /** Bytes of the request or response. */
  readonly size: number;
}

/** A Cascade {@link Logger} keeping kafkajs' fetch lines and its "Preferred read replica" notes. */
class FetchLog {
  readonly lines: FetchLine[] = [];
  readonly preferred: string[] = [];

  get requests(): FetchLine[] {
    return this.lines.filter((l) => l.kind === 'request');
  }

  /** Bytes of all fetch responses from `broker`, and the largest of them. */
  responseBytes(broker: string): { total: number; largest: number; count: number } {
    const sizes = this.lines.filter((l) => l.kind === 'response' && l.broker === broker).map((l) => l.size);
    return { total: sizes.reduce((a, b) => a + b, 0), largest: Math.max(0, ...sizes), count: sizes.length };
  }

  logger(): Logger {
    const note = (message: string, meta: LogMeta = {}) => {
      const match = /^(Request|Response) Fetch\(key: 1, version: (\d+)\)$/.exec(message);
      if (match !== null && typeof meta.broker === 'string' && typeof meta.size === 'number') {
        this.lines.push({
          kind: match[1] === 'Request' ? 'request' : 'response',
          broker: meta.broker,
          version: Number(match[2]),
          size: meta.size,
        });
      } else if (message.startsWith('Preferred read replica is now ')) {
        this.preferred.push(message);
      }
    };
    const logger: Logger = { debug: note, info: note, warn: note, error: note, child: () => logger };
    return logger;
  }
}

describe('rack awareness on three racks', () => {
  let cluster: Cluster;
  let kafka: Kafka;

  beforeAll(async () => {
    cluster = await startCluster({ mode: 'jvm', nodes: 3, racks: [...racks], registry: false });
    kafka = rawKafka(cluster.brokers);
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** Stores `values` (the i-th in `partitions[i]` when given) with the shared idempotent helper. */
  const produce = (topic: string, values: readonly string[], partitions?: readonly number[]) =>
    produceRecords(
      kafka,
      topic,
      values.map((value, i) =>
        partitions === undefined ? { value } : { value, partition: partitions[i] as number },
      ),
    );

  /** The high watermark of each partition of `topic`. */
  async function highWatermarks(topic: string): Promise<number[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    } finally {
      await admin.disconnect();
    }
  }

  describe("the 'rack-aware' assignor", () => {
    interface Handled {
      readonly member: string;
      readonly partition: number;
      readonly value: string;
    }

    it('gives each member the partition whose only replica is in its rack, and follows members that change racks', async () => {
      const topic = uniqueName('rack-assign');
      const groupId = uniqueName('rack-assign-group');
      // Partition p's only replica is on node p + 1, so in rack r(p + 1).
      await createTopics(kafka, [
        {
          topic,
          replicaAssignment: cluster.nodes.map((node) => ({
            partition: node.index,
            replicas: [node.nodeId],
          })),
        },
      ]);
      for (const node of cluster.nodes) expect(await cluster.leaderOf(topic, node.index)).toBe(node.index);

      const handled: Handled[] = [];
      const members = new Map<string, { consumer: Consumer; rack: string }>();
      const startMember = async (name: string, rack: string): Promise<void> => {
        const consumer = createConsumer({
          kafka: { brokers: cluster.brokers, clientId: uniqueName(`rack-${name}`) },
          groupId,
          fromBeginning: true,
          rackId: rack,
          assignors: ['rack-aware'],
        });
        consumer.subscribe({
          topic,
          value: string(),
          tombstones: 'skip',
          handler: (message) => {
            handled.push({ member: name, partition: message.partition, value: message.value });
          },
        });
        members.set(name, { consumer, rack });
        await consumer.start();
      };
      /** Member name (with its rack) -> its partitions, names sorted. */
      const assignment = (): Record<string, number[]> =>
        Object.fromEntries(
          [...members]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([name, { consumer, rack }]) => [
              `${name}@${rack}`,
              consumer
                .stats()
                .assigned.map((tp) => tp.partition)
                .sort((a, b) => a - b),
            ]),
        );
      /**
       * Waits for `expected` (`name@rack` -> partitions), then checks that records sent now are
       * handled by their partition's member.
       */
      const expectAssignment = async (
        expected: Record<string, number[]>,
        round: string,
        since: number,
      ): Promise<{ settledMs: number; assignment: Record<string, number[]> }> => {
        await waitFor(
          () => JSON.stringify(assignment()) === JSON.stringify(expected),
          () => `assignment ${JSON.stringify(expected)} (now ${JSON.stringify(assignment())})`,
          settleMs,
          50,
        );
        const settled = Date.now() - since;
        const reached = assignment();
        const values = cluster.nodes.map((node) => `${round}-p${node.index}`);
        await produce(
          topic,
          values,
          cluster.nodes.map((node) => node.index),
        );
        await waitFor(
          () => values.every((value) => handled.some((h) => h.value === value)),
          () => `records of round ${round} handled (${handled.length} handled in all)`,
          settleMs,
        );
        const owners = Object.fromEntries(
          handled.filter((h) => h.value.startsWith(`${round}-`)).map((h) => [h.value, h.member]),
        );
        const ownerOf = (partition: number) =>
          Object.entries(expected)
            .find(([, partitions]) => partitions.includes(partition))?.[0]
            .split('@')[0];
        expect(owners).toEqual(Object.fromEntries(values.map((value, p) => [value, ownerOf(p)])));
        return { settledMs: settled, assignment: reached };
      };

      try {
        // Members a, b, c start in racks r1, r2, r3.
        const firstFrom = Date.now();
        await Promise.all(['a', 'b', 'c'].map((name, i) => startMember(name, racks[i] as string)));
        const first = await expectAssignment({ 'a@r1': [0], 'b@r2': [1], 'c@r3': [2] }, 'first', firstFrom);

        // A rolling restart moves every member one rack on: a to r2, b to r3, c to r1. Between
        // the steps, a partition is certain only where one member alone shares its rack: after
        // a's move c (the only r3 member) keeps partition 2, after b's a (the only r2) has 1.
        const rollingFrom = Date.now();
        const rolling: number[] = [];
        for (const [name, rack, certain] of [
          ['a', 'r2', ['c@r3', 2]],
          ['b', 'r3', ['a@r2', 1]],
          ['c', 'r1', ['c@r1', 0]],
        ] as const) {
          const started = Date.now();
          await members.get(name)?.consumer.stop();
          members.delete(name);
          await startMember(name, rack);
          await waitFor(
            () => {
              const now = assignment();
              const lists = Object.values(now);
              return (
                lists.every((p) => p.length === 1) &&
                new Set(lists.flat()).size === 3 &&
                now[certain[0]]?.[0] === certain[1]
              );
            },
            () =>
              `one partition each, ${certain[0]} on ${certain[1]}, after ${name} moved to ${rack} (${JSON.stringify(assignment())})`,
            settleMs,
            50,
          );
          rolling.push(Date.now() - started);
        }
        const rotated = await expectAssignment(
          { 'a@r2': [1], 'b@r3': [2], 'c@r1': [0] },
          'rotated',
          rollingFrom,
        );
        expect(await highWatermarks(topic)).toEqual([2, 2, 2]);

        // biome-ignore lint/suspicious/noConsole: the measured figures are this test's report
        console.info(
          JSON.stringify({
            test: 'rack-aware assignment',
            first: { assignment: first.assignment, msFromStart: first.settledMs },
            rotated: { assignment: rotated.assignment, msFromRollStart: rotated.settledMs },
            rollingStepMs: rolling,
            handled: handled.length,
          }),
        );
      } finally {
        await Promise.all([...members.values()].map(({ consumer }) => consumer.stop()));
      }
    });
  });

  describe('follower fetching (KIP-392)', () => {
    const valueBytes = 1_000;
    const batch = 20;
    const records = (prefix: string) =>
      Array.from({ length: batch }, (_, i) =>
        `${prefix}-${String(i).padStart(2, '0')}-`.padEnd(valueBytes, 'x'),
      );
    const addressOf = (index: number) => cluster.nodes[index]?.bootstrap as string;

    /**
     * A topic of one partition on all three nodes, node 1 (rack r1) its leader, holding `batch`
     * records; resolves once all three replicas are in sync, so a follower may serve offset 0.
     */
    async function followerTopic(): Promise<string> {
      const topic = uniqueName('rack-fetch');
      await createTopics(kafka, [{ topic, replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }]);
      await produce(topic, records('early'));
      await waitFor(
        async () => {
          const p = await cluster.describePartition(topic, 0);
          return p.leader === 0 && p.isr.length === 3;
        },
        () => `${topic}-0 led by node 1 with three replicas in sync`,
        settleMs,
        250,
      );
      return topic;
    }

    /**
     * Reads `topic` from the start with a consumer of a group of its own, logging kafkajs at
     * debug level; sends `batch` more records once the first `batch` arrived, and stops once it
     * read both.
     */
    async function readWith(topic: string, rackId: string | undefined) {
      const log = new FetchLog();
      const values: string[] = [];
      const consumer = createConsumer({
        kafka: {
          brokers: cluster.brokers,
          clientId: uniqueName('rack-fetch'),
          logger: log.logger(),
          clientLogLevel: 'debug',
        },
        groupId: uniqueName('rack-fetch-group'),
        fromBeginning: true,
        ...(rackId === undefined ? {} : { rackId }),
      });
      consumer.subscribe({
        topic,
        value: string(),
        tombstones: 'skip',
        handler: (message) => {
          values.push(message.value);
        },
      });
      try {
        await consumer.start();
        await waitFor(
          () => values.length >= batch,
          () => `the first ${batch} records (${values.length})`,
          settleMs,
        );
        await produce(topic, records('later'));
        await waitFor(
          () => values.length >= 2 * batch,
          () => `${2 * batch} records (${values.length})`,
          settleMs,
        );
      } finally {
        await consumer.stop();
      }
      expect([...values].sort()).toEqual([...records('early'), ...records('later')]);
      return log;
    }

    it('a consumer in rack r2 is sent to the follower on node 2 and fetches the records from it', async () => {
      const topic = await followerTopic();
      const leader = addressOf(0);
      const follower = addressOf(1);
      const log = await readWith(topic, 'r2');

      const requests = log.requests;
      const switchedAt = requests.findIndex((r) => r.broker === follower);
      // The first fetch goes to the leader, which answers with node 2 as the preferred read
      // replica; every fetch after that goes to node 2.
      expect(requests[0]?.broker).toBe(leader);
      expect(switchedAt).toBeGreaterThanOrEqual(1);
      expect(requests.slice(0, switchedAt).every((r) => r.broker === leader)).toBe(true);
      expect(requests.slice(switchedAt).every((r) => r.broker === follower)).toBe(true);
      expect(log.preferred).toEqual(['Preferred read replica is now 2']);
      // The leader's answers carried no records; node 2's carried all of them.
      const fromLeader = log.responseBytes(leader);
      const fromFollower = log.responseBytes(follower);
      expect(fromLeader.largest).toBeLessThan(valueBytes);
      expect(fromFollower.total).toBeGreaterThan(2 * batch * valueBytes);

      // biome-ignore lint/suspicious/noConsole: the measured figures are this test's report
      console.info(
        JSON.stringify({
          test: 'follower fetching: consumer rackId r2, leader node 1 (r1)',
          fetchVersions: [...new Set(requests.map((r) => r.version))],
          fetchesToLeaderBeforeSwitch: switchedAt,
          fetchesToNode2After: requests.length - switchedAt,
          responseBytes: { leader: fromLeader, node2: fromFollower },
          preferred: log.preferred,
        }),
      );
    });

    it('a consumer without a rackId fetches from the leader only', async () => {
      const topic = await followerTopic();
      const leader = addressOf(0);
      const log = await readWith(topic, undefined);

      const requests = log.requests;
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.every((r) => r.broker === leader)).toBe(true);
      expect(log.preferred).toEqual([]);
      const fromLeader = log.responseBytes(leader);
      expect(fromLeader.total).toBeGreaterThan(2 * batch * valueBytes);

      // biome-ignore lint/suspicious/noConsole: the measured figures are this test's report
      console.info(
        JSON.stringify({
          test: 'follower fetching: consumer without rackId, leader node 1 (r1)',
          fetchVersions: [...new Set(requests.map((r) => r.version))],
          fetches: requests.length,
          fetchedFromNodes: [...new Set(requests.map((r) => r.broker))].map(
            (b) => cluster.nodes.find((n) => n.bootstrap === b)?.nodeId,
          ),
          responseBytes: { leader: fromLeader },
        }),
      );
    });
  });
});
