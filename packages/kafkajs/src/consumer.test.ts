// The seam's group consumer on kafkajs, without a broker: the options kafkajs gets, the batches
// handed over as they are (only the heartbeat wrapped), and every error a TransportError.
import type { FetchedBatchPayload, TransportConsumerOptions } from '@cascade/transport';
import { TransportError } from '@cascade/transport';
import { Kafka, logLevel, PartitionAssigners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsConsumer } from './consumer.js';

const options: TransportConsumerOptions = {
  groupId: 'billing',
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  fetchMaxWaitMs: 500,
  maxBytesPerPartition: 1_048_576,
  maxBytes: 10_485_760,
  metadataMaxAgeMs: 300_000,
  readCommitted: true,
};

type Listener = (event: { payload: Record<string, unknown> }) => void;

/** A kafkajs client whose consumer records its config, listeners and `run` options. */
function fakeKafka() {
  const seen: {
    config?: Record<string, unknown>;
    run?: { eachBatch: (payload: unknown) => Promise<void>; partitionsConsumedConcurrently: number };
    listeners: Map<string, Listener>;
  } = { listeners: new Map() };
  const consumer = {
    events: {
      GROUP_JOIN: 'consumer.group_join',
      REBALANCING: 'consumer.rebalancing',
      CRASH: 'consumer.crash',
    },
    on: (name: string, listener: Listener) => void seen.listeners.set(name, listener),
    run: async (runOptions: NonNullable<typeof seen.run>) => {
      seen.run = runOptions;
    },
  };
  const kafka = {
    consumer: (config: Record<string, unknown>) => {
      seen.config = config;
      return consumer;
    },
  };
  return { kafka: kafka as unknown as Kafka, seen };
}

const protocolError = (type: string) =>
  Object.assign(new Error(`The group is rebalancing`), {
    name: 'KafkaJSProtocolError',
    type,
    retriable: false,
  });

describe('kafkajsConsumer', () => {
  it('gives kafkajs the resolved settings: read_committed, no topic creation, round robin by default', () => {
    const { kafka, seen } = fakeKafka();
    kafkajsConsumer(kafka, options);
    expect(seen.config).toMatchObject({
      groupId: 'billing',
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      rebalanceTimeout: 60_000,
      maxWaitTimeInMs: 500,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      metadataMaxAge: 300_000,
    });
    expect(seen.config?.rackId).toBeUndefined();
    expect(seen.config?.partitionAssigners).toEqual([PartitionAssigners.roundRobin]);
  });

  it('offers the assignors in the order given, the rack-aware one with the member rack', () => {
    const { kafka, seen } = fakeKafka();
    kafkajsConsumer(kafka, { ...options, rackId: 'r1', assignors: ['rack-aware', 'round-robin'] });
    expect(seen.config?.rackId).toBe('r1');
    const assigners = seen.config?.partitionAssigners as unknown[];
    expect(assigners).toHaveLength(2);
    expect(assigners[0]).not.toBe(PartitionAssigners.roundRobin);
    expect(assigners[1]).toBe(PartitionAssigners.roundRobin);
  });

  it('hands the batch over as it is and rejects a failed heartbeat with a TransportError naming the Kafka error', async () => {
    const { kafka, seen } = fakeKafka();
    const consumer = kafkajsConsumer(kafka, options);
    const payloads: FetchedBatchPayload[] = [];
    await consumer.run({
      partitionsConcurrently: 4,
      eachBatch: async (payload) => void payloads.push(payload),
      events: { onJoin: () => {}, onRebalancing: () => {}, onCrash: () => {} },
    });
    expect(seen.run?.partitionsConsumedConcurrently).toBe(4);
    const batch = { topic: 'orders', partition: 0, messages: [] };
    await seen.run?.eachBatch({
      batch,
      resolveOffset: () => {},
      heartbeat: () => Promise.reject(protocolError('REBALANCE_IN_PROGRESS')),
      isRunning: () => true,
      isStale: () => false,
      pause: () => () => {},
    });
    const [payload] = payloads;
    expect(payload?.batch).toBe(batch);
    const error = await payload?.heartbeat().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({
      kind: 'protocol',
      kafkaType: 'REBALANCE_IN_PROGRESS',
      transport: 'kafkajs',
    });
  });

  it('reports joins with their assignment and member id, rebalances, and crashes as TransportErrors', async () => {
    const { kafka, seen } = fakeKafka();
    const consumer = kafkajsConsumer(kafka, options);
    const events: unknown[] = [];
    await consumer.run({
      partitionsConcurrently: 1,
      eachBatch: async () => {},
      events: {
        onJoin: (assignment, memberId) => void events.push(['join', assignment, memberId]),
        onRebalancing: () => void events.push(['rebalancing']),
        onCrash: (error, restart) => void events.push(['crash', error.kafkaType, error.retriable, restart]),
      },
    });
    seen.listeners.get('consumer.group_join')?.({
      payload: { memberAssignment: { orders: [0, 2] }, memberId: 'member-1' },
    });
    seen.listeners.get('consumer.rebalancing')?.({ payload: {} });
    seen.listeners.get('consumer.crash')?.({
      payload: { error: protocolError('GROUP_AUTHORIZATION_FAILED'), restart: false },
    });
    expect(events).toEqual([
      ['join', { orders: [0, 2] }, 'member-1'],
      ['rebalancing'],
      ['crash', 'GROUP_AUTHORIZATION_FAILED', false, false],
    ]);
  });

  it('throws a TransportError from a seek kafkajs refuses (before run)', () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const consumer = kafkajsConsumer(kafka, options);
    let error: unknown;
    try {
      consumer.seek({ topic: 'orders', partition: 0, offset: '5' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).retriable).toBe(false);
  });

  it("reads a record's timestamp type off the batch attributes kafkajs keeps on it", () => {
    const { kafka } = fakeKafka();
    const consumer = kafkajsConsumer(kafka, options);
    const record = { key: null, value: null, timestamp: '1', offset: '0' };
    expect(consumer.timestampTypeOf(record)).toBe('CreateTime');
    expect(consumer.timestampTypeOf({ ...record, batchContext: { timestampType: 0 } } as never)).toBe(
      'CreateTime',
    );
    expect(consumer.timestampTypeOf({ ...record, batchContext: { timestampType: 1 } } as never)).toBe(
      'LogAppendTime',
    );
  });
});
