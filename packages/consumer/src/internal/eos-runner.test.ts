// The exactly-once runner's liveness: every await on the Kafka client ends at the abandon deadline, so a
// request that never settles (a broker restarting) cannot keep the batch from returning and the
// consumer from rejoining its group. The transactional outputs and the producer are stand-ins of
// Cascade's own seam (TransactionalOutputs) that never settle where the test says; the records,
// the subscription, the processor and the in-flight bound are the real ones.
import { noopLogger } from '@cascade/core';
import { string } from '@cascade/schema';
import type { FetchedBatchPayload, FetchedRecord } from '@cascade/transport';
import { describe, expect, it } from 'vitest';
import {
  abandoned,
  type EosBatchHost,
  runEosBatch,
  type TransactionalOutputs,
  unlessAbandoned,
} from './eos-runner.js';
import { InFlightLimit } from './in-flight.js';
import { newPartitionState } from './partition-state.js';
import { RecordProcessor } from './record-processor.js';
import { resolveSubscription } from './subscription.js';

type Stage = 'producerFor' | 'committedOffset' | 'handler' | 'transaction' | 'discard';

const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** Lets pending promise callbacks and I/O callbacks run (no timers involved). */
async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function harness(hangAt: Stage | undefined) {
  const dispatch = new AbortController();
  const abandon = new AbortController();
  const afterCommit: string[] = [];
  const resolved: string[] = [];
  const seeks: string[] = [];
  const discarded: string[] = [];
  const sent: string[] = [];
  const subscription = resolveSubscription(
    {
      topic: 'in',
      value: string(),
      handler: async (message, context) => {
        context.send({ topic: 'out', value: `out-${message.value}` });
        context.afterCommit(() => afterCommit.push(message.offset));
        if (hangAt === 'handler') await never();
      },
    },
    0,
    { eos: true },
  );
  const state = newPartitionState({
    subscription,
    topic: 'in',
    partition: 0,
    retryStage: 0,
    baseTopic: 'in',
  });
  const processor = new RecordProcessor({
    groupId: 'g',
    logger: noopLogger,
    handlerTimeoutMs: 0,
    interceptors: [],
    publisher: {
      send: () => Promise.reject(new Error('no publisher in exactly-once mode')),
      close: async () => {},
    },
    onError: () => {},
    timestampTypeOf: () => 'CreateTime',
  });
  const host: EosBatchHost = {
    logger: noopLogger,
    inFlight: new InFlightLimit(10),
    processor,
    state: () => state,
    signals: () => ({ dispatch: dispatch.signal, abandon: abandon.signal }),
    commit: async () => {},
    commitsFailing: () => false,
    useHeartbeat: () => {},
    resumeLater: () => {},
    seek: (_topic, _partition, offset) => void seeks.push(offset),
  };
  const producer = {
    transaction: async (work: (tx: unknown) => Promise<void>) => {
      if (hangAt === 'transaction') await never();
      await work({
        sendBatch: async (records: Array<{ value: Buffer }>) => {
          for (const record of records) sent.push(record.value.toString());
        },
        sendOffsets: async () => {},
      });
      if (hangAt === 'discard') throw new Error('the transaction failed');
    },
  };
  const outputs: TransactionalOutputs = {
    producerFor: () =>
      hangAt === 'producerFor'
        ? never()
        : Promise.resolve({ producer: producer as never, fresh: hangAt === 'committedOffset' }),
    committedOffset: () => (hangAt === 'committedOffset' ? never() : Promise.resolve(undefined)),
    discard: async (topic, partition) => {
      discarded.push(`${topic}:${partition}`);
      if (hangAt === 'discard') await never();
    },
    onAssigned: async () => {},
    close: async () => {},
  };
  const messages: FetchedRecord[] = ['a', 'b'].map((value, i) => ({
    key: null,
    value: Buffer.from(value),
    timestamp: '0',
    offset: String(i),
    headers: {},
  }));
  const payload: FetchedBatchPayload = {
    batch: {
      topic: 'in',
      partition: 0,
      highWatermark: '2',
      messages,
      firstOffset: () => '0',
      lastOffset: () => '1',
    },
    resolveOffset: (offset: string) => void resolved.push(offset),
    heartbeat: async () => {},
    isRunning: () => true,
    isStale: () => false,
    pause: () => () => {},
  };
  /** The consumer's rebalance: stop dispatching, then abandon at the deadline. */
  const abandonNow = (): void => {
    dispatch.abort();
    abandon.abort();
  };
  return {
    run: () => runEosBatch(host, outputs, payload, 'g'),
    abandonNow,
    afterCommit,
    resolved,
    seeks,
    discarded,
    sent,
    inFlight: host.inFlight,
  };
}

describe('runEosBatch', () => {
  it("commits the handlers' sends and the batch's offsets in one transaction, then runs afterCommit", async () => {
    const h = harness(undefined);
    await h.run();
    expect(h.sent).toEqual(['out-a', 'out-b']);
    expect(h.resolved).toEqual(['1']);
    expect(h.afterCommit).toEqual(['0', '1']);
    expect(h.discarded).toEqual([]);
  });

  it.each<Stage>(['producerFor', 'committedOffset', 'handler', 'transaction'])(
    'returns at the abandon deadline while %s never settles, resolving nothing and discarding the producer',
    async (stage) => {
      const h = harness(stage);
      let returned = false;
      const running = h.run().then(() => {
        returned = true;
      });
      await settleMicrotasks();
      expect(returned).toBe(false);
      h.abandonNow();
      await running;
      expect(h.resolved).toEqual([]);
      expect(h.afterCommit).toEqual([]);
      expect(h.seeks).toEqual([]);
      expect(h.discarded).toEqual(['in:0']);
      // (A handler that never settles keeps its in-flight slot, as in at-least-once mode.)
      if (stage !== 'handler') expect(h.inFlight.count).toBe(0);
    },
  );

  it('returns at the abandon deadline while discarding the producer of a failed transaction never settles', async () => {
    const h = harness('discard');
    let returned = false;
    const running = h.run().then(() => {
      returned = true;
    });
    await settleMicrotasks();
    expect(returned).toBe(false);
    expect(h.discarded).toEqual(['in:0']);
    h.abandonNow();
    await running;
    expect(h.resolved).toEqual([]);
    expect(h.afterCommit).toEqual([]);
    // The batch is read again from its first offset.
    expect(h.seeks).toEqual(['0']);
  });
});

describe('unlessAbandoned', () => {
  it('settles like the work, or with the abandoned marker once the signal aborts', async () => {
    const controller = new AbortController();
    await expect(unlessAbandoned(Promise.resolve(7), controller.signal)).resolves.toBe(7);
    await expect(unlessAbandoned(Promise.reject(new Error('x')), controller.signal)).rejects.toThrow('x');
    const pending = unlessAbandoned(never(), controller.signal);
    controller.abort();
    await expect(pending).resolves.toBe(abandoned);
    // Already aborted: no wait, and a late rejection of the work is not unhandled.
    await expect(unlessAbandoned(Promise.reject(new Error('late')), controller.signal)).resolves.toBe(
      abandoned,
    );
  });
});
