/**
 * saga: 3-step sagas (three remote steps, in-process participants) through the Kafka coordinator
 * at 1, 10 and 100 concurrent begins: completed sagas/s, p50/p99 latency (begin to completed), and
 * Kafka transactions per saga. The baseline is a naive coordinator that commits one Kafka
 * transaction per transition, measured in the same run with a raw kafkajs transactional producer:
 * its sagas/s is (transactions/s) / (transitions per saga).
 */
import { randomUUID } from 'node:crypto';
import { tracingChannel } from 'node:diagnostics_channel';
import { DiagnosticChannels } from '@cascade/core';
import {
  createSagaCoordinator,
  createSagaParticipant,
  defineSaga,
  ensureSagaTopics,
  replyType,
  sagaTopics,
} from '@cascade/saga';
import { type Benchmark, type BenchResult, result } from '../harness.js';
import { naiveTransactionsPerSecond, percentile, runConcurrently, warmUp } from '../load.js';

const threeSteps = defineSaga<{ orderId: string }>('bench-order')
  .step('reserve', {
    participant: 'inventory',
    invoke: ({ input }) => ({ orderId: input.orderId }),
    reply: replyType<{ ok: true }>(),
    compensate: () => ({}),
  })
  .step('charge', {
    participant: 'payment',
    invoke: ({ input }) => ({ orderId: input.orderId }),
    compensate: () => ({}),
  })
  .step('ship', { participant: 'shipping', invoke: ({ input }) => ({ orderId: input.orderId }) })
  .build();

const benchmark: Benchmark = {
  name: 'saga',
  description:
    '3-step sagas through the Kafka coordinator (exactly-once, in-process participants, 6 partitions) at 1 / 10 / 100 concurrent begins; baseline = one Kafka transaction per transition (raw kafkajs, sequential).',
  async run({ brokers, log }) {
    const kafka = { brokers, clientId: 'bench-saga' };
    const topics = sagaTopics(`bench-saga-${Date.now()}`);
    await ensureSagaTopics(kafka, topics, {
      partitions: 6,
      participants: ['inventory', 'payment', 'shipping'],
    });
    const ok = { invoke: () => ({ ok: true }), compensate: () => ({}) };
    const participants = [
      createSagaParticipant({ kafka, participant: 'inventory', topics, commands: { reserve: ok } }),
      createSagaParticipant({ kafka, participant: 'payment', topics, commands: { charge: ok } }),
      createSagaParticipant({ kafka, participant: 'shipping', topics, commands: { ship: ok } }),
    ];
    const coordinator = createSagaCoordinator({ kafka, sagas: [threeSteps], topics });
    let transactions = 0;
    const noop = (): void => {};
    const counter = {
      start: () => void transactions++,
      end: noop,
      asyncStart: noop,
      asyncEnd: noop,
      error: noop,
    };
    tracingChannel(DiagnosticChannels.producerTransaction).subscribe(counter);
    try {
      await Promise.all([coordinator.start(), ...participants.map((p) => p.start())]);
      const runOne = async (): Promise<number> => {
        const started = performance.now();
        const id = await coordinator.begin(threeSteps, { orderId: randomUUID() });
        const outcome = await coordinator.result(id);
        if (outcome !== 'completed') throw new Error(`saga ${id} ended ${outcome}`);
        return performance.now() - started;
      };
      // A freshly started broker is markedly slower at first: 60 s of load.
      await warmUp(runOne, 60_000, 100);

      const firstId = await coordinator.begin(threeSteps, { orderId: 'probe' });
      await coordinator.result(firstId);
      const transitions = (await coordinator.status(firstId))?.seq ?? Number.NaN;
      const naiveTps = await naiveTransactionsPerSecond(
        brokers,
        topics.inbox.replace('inbox', 'naive'),
        300,
        600,
      );
      const naiveSagasPerSecond = naiveTps / transitions;
      log(`naive: ${Math.round(naiveTps)} transactions/s, ${transitions} transitions per saga`);

      const results: BenchResult[] = [];
      for (const [concurrency, total] of [
        [1, 100],
        [10, 1_000],
        [100, 3_000],
      ] as const) {
        transactions = 0;
        const { seconds, latencies } = await runConcurrently(concurrency, total, runOne);
        const perSecond = total / seconds;
        log(
          `${concurrency} concurrent: ${Math.round(perSecond)} sagas/s, p99 ${Math.round(percentile(latencies, 99))} ms`,
        );
        results.push(result(`${concurrency} concurrent`, 'sagas/s', perSecond, naiveSagasPerSecond));
        results.push(
          result(
            `${concurrency} concurrent p50`,
            'ms',
            percentile(latencies, 50),
            (transitions / naiveTps) * 1_000,
          ),
        );
        results.push(
          result(
            `${concurrency} concurrent p99`,
            'ms',
            percentile(latencies, 99),
            (transitions / naiveTps) * 1_000,
          ),
        );
        results.push(
          result(`${concurrency} concurrent`, 'transactions/saga', transactions / total, transitions),
        );
      }
      return results;
    } finally {
      tracingChannel(DiagnosticChannels.producerTransaction).unsubscribe(counter);
      await coordinator.stop();
      await Promise.all(participants.map((p) => p.stop()));
    }
  },
};

export default benchmark;
