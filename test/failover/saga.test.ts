// The saga coordinator on a three-node cluster (RF 3, min ISR 2, racks r1-r3) while a broker is
// killed and restarted: every saga ends, no participant applies an effect twice, the inbox
// partitions the dead broker did not serve never stop, and those it served go on within 20 s.
import { createLogger, type LogMeta } from '@cascade/core';
import { murmur2Partition } from '@cascade/producer';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  type Participant,
  replyType,
  type SagaCoordinator,
  type SagaOutcome,
  sagaTopics,
} from '@cascade/saga';
import { type Cluster, startCluster } from '@cascade/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../support/kafka.js';

interface Order {
  readonly orderId: string;
  readonly amountCents: number;
}

const placeOrder = defineSaga<Order>('failover-order')
  .step('reserve-stock', {
    participant: 'inventory',
    invoke: ({ input }) => ({ orderId: input.orderId }),
    reply: replyType<{ reservationId: string }>(),
    compensate: ({ input }) => ({ orderId: input.orderId }),
    timeoutMs: 15_000,
    retry: { maximumAttempts: 10, initialIntervalMs: 500 },
  })
  .step('charge-card', {
    participant: 'payment',
    invoke: ({ input }) => ({ orderId: input.orderId, amountCents: input.amountCents }),
    reply: replyType<{ chargeId: string }>(),
    compensate: ({ input }) => ({ orderId: input.orderId }),
    timeoutMs: 15_000,
    retry: { maximumAttempts: 10, initialIntervalMs: 500 },
  })
  .build();

const sagas = 300;
const partitions = 6;
/** Every tenth order's card is declined: those sagas compensate the reservation. */
const declined = (i: number) => i % 10 === 7;

/** The longest time without a transition on each partition, between `from` and `to`. */
function longestGaps(times: ReadonlyMap<number, number[]>, from: number, to: number): Map<number, number> {
  const gaps = new Map<number, number>();
  for (const [partition, all] of times) {
    const inside = [from, ...all.filter((t) => t > from && t < to).sort((a, b) => a - b), to];
    let longest = 0;
    for (let i = 1; i < inside.length; i++)
      longest = Math.max(longest, (inside[i] ?? 0) - (inside[i - 1] ?? 0));
    gaps.set(partition, longest);
  }
  return gaps;
}

describe('the saga coordinator on a three-node cluster', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ mode: 'jvm', nodes: 3, racks: ['r1', 'r2', 'r3'], registry: false });
  }, 240_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs 300 sagas through the kill and restart of a broker: all terminal, no participant effect twice, only the dead broker’s partitions wait', async () => {
    const kafka = () => ({ brokers: cluster.brokers, clientId: uniqueName('failover-saga') });
    const topics = sagaTopics(uniqueName('failover'));
    await ensureSagaTopics(kafka(), topics, { partitions, participants: ['inventory', 'payment'] });

    // Each participant's effects, by idempotency key: how often each was applied.
    const effects = new Map<string, number>();
    const apply = (key: string) => effects.set(key, (effects.get(key) ?? 0) + 1);
    const inventory = createSagaParticipant({
      kafka: kafka(),
      participant: 'inventory',
      topics,
      commands: {
        'reserve-stock': {
          invoke: (_payload, { idempotencyKey }) => {
            apply(idempotencyKey);
            return { reservationId: `r-${idempotencyKey}` };
          },
          compensate: (_payload, { idempotencyKey }) => {
            apply(idempotencyKey);
          },
        },
      },
    });
    const payment = createSagaParticipant({
      kafka: kafka(),
      participant: 'payment',
      topics,
      commands: {
        'charge-card': {
          invoke: (payload, { idempotencyKey }) => {
            const { orderId } = payload as { orderId: string };
            if (declined(Number(orderId.slice(2))))
              throw new BusinessFailure('CardDeclined', `${orderId} declined`);
            apply(idempotencyKey);
            return { chargeId: `c-${orderId}` };
          },
          compensate: (_payload, { idempotencyKey }) => {
            apply(idempotencyKey);
          },
        },
      },
    });
    const logs: Array<{ at: number; level: string; message: string; meta: LogMeta }> = [];
    const coordinator: SagaCoordinator = createSagaCoordinator({
      kafka: kafka(),
      sagas: [placeOrder],
      topics,
      logger: createLogger((level, message, meta) => logs.push({ at: Date.now(), level, message, meta }), {
        level: 'info',
      }),
    });
    const components: Array<SagaCoordinator | Participant> = [coordinator, inventory, payment];
    // Transitions by inbox partition: the saga id's partition (the producer's murmur2).
    const transitions = new Map<number, number[]>(Array.from({ length: partitions }, (_, p) => [p, []]));
    coordinator.onNotification((notification) =>
      transitions.get(murmur2Partition(Buffer.from(notification.sagaId), partitions))?.push(Date.now()),
    );
    try {
      await Promise.all(components.map((component) => component.start()));

      // The node leading most inbox partitions dies, once a third of the sagas have begun.
      const leaders = await Promise.all(
        Array.from({ length: partitions }, (_, p) => cluster.leaderOf(topics.inbox, p)),
      );
      const logLeaders = await Promise.all(
        Array.from({ length: partitions }, (_, p) => cluster.leaderOf(topics.log, p)),
      );
      // The broker that dies leads the most saga log partitions: the restores that follow the
      // transactions its death aborts read those partitions from their new leaders (the log is
      // read by partition, in no consumer group, since #17).
      const groupId = `${topics.inbox}.coordinator`;
      const ledLogPartitions = new Map<number, number>();
      for (const leader of logLeaders) ledLogPartitions.set(leader, (ledLogPartitions.get(leader) ?? 0) + 1);
      const victim = [...ledLogPartitions].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]?.[0] as number;
      const groupCoordinator = await cluster.coordinatorOf('group', groupId);
      const affected = new Set(
        Array.from({ length: partitions }, (_, p) => p).filter(
          (p) => leaders[p] === victim || logLeaders[p] === victim || groupCoordinator === victim,
        ),
      );

      const ids = Array.from({ length: sagas }, (_, i) => `order-${i}`);
      const results: Array<Promise<SagaOutcome>> = [];
      let killedAt = 0;
      let kill: Promise<void> | undefined;
      for (const [i, sagaId] of ids.entries()) {
        results.push(
          coordinator
            .begin(placeOrder, { orderId: `o-${i}`, amountCents: i + 1 }, { sagaId })
            .then(() => coordinator.result(sagaId)),
        );
        if (i === 100) {
          killedAt = Date.now();
          kill = cluster.killNode(victim);
        }
        // A steady stream of begins (about 10 a second), so a stopped partition shows as a gap.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const lastBeginAt = Date.now();
      await kill;
      // Back once every partition has moved away from the dead node and the stream has gone on.
      for (const topic of [topics.inbox, topics.log]) {
        for (let p = 0; p < partitions; p++) {
          await waitFor(
            async () => (await cluster.leaderOf(topic, p)) !== victim,
            () => `a new leader for ${topic}-${p}`,
            60_000,
            200,
          );
        }
      }
      await cluster.startNode(victim);
      const restartedAt = Date.now();

      const outcomes = await Promise.all(results);
      const doneAt = Date.now();

      expect(outcomes).toEqual(ids.map((_, i) => (declined(i) ? 'compensated' : 'completed')));
      // No effect twice: every key applied once, and exactly the effects each outcome implies.
      expect([...effects.values()].filter((count) => count !== 1)).toEqual([]);
      const expected = ids.flatMap((sagaId, i) =>
        declined(i)
          ? [`${sagaId}/reserve-stock/invoke`, `${sagaId}/reserve-stock/compensate`]
          : [`${sagaId}/reserve-stock/invoke`, `${sagaId}/charge-card/invoke`],
      );
      expect([...effects.keys()].sort()).toEqual(expected.sort());

      const gaps = longestGaps(transitions, killedAt, lastBeginAt);
      const figures = {
        victim,
        groupCoordinator,
        inboxLeaders: leaders,
        logLeaders,
        affected: [...affected],
        longestGapMs: Object.fromEntries(gaps),
        readerGroupCoordinator: victim,
        restartedAfterMs: restartedAt - killedAt,
        allTerminalAfterKillMs: doneAt - killedAt,
        restores: logs
          .filter((log) => log.message.startsWith('Sagas restored') || log.level !== 'info')
          .map(
            (log) =>
              `${log.at - killedAt} ms ${log.level} ${log.message} ${JSON.stringify(log.meta.partition)}`,
          ),
      };
      // biome-ignore lint/suspicious/noConsole: the measured figures are this test's report
      console.info('saga failover:', JSON.stringify(figures));
      for (const [partition, gap] of gaps) {
        if (affected.has(partition)) expect(gap, `partition ${partition} (affected)`).toBeLessThan(20_000);
        else expect(gap, `partition ${partition} (unaffected)`).toBeLessThan(10_000);
      }
    } finally {
      await Promise.all(components.map((component) => component.stop()));
      await cluster.startNode(0);
      await cluster.startNode(1);
      await cluster.startNode(2);
    }
  }, 420_000);
});
