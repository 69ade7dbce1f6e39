/**
 * The seam's group consumer on kafkajs. kafkajs' batches and records already carry the fields
 * of `FetchedBatch` / `FetchedRecord`, so they are handed over as they are (no per-record
 * allocation); only the heartbeat is wrapped, once per batch, so it rejects with a
 * `TransportError`.
 * @module
 */

import type {
  FetchedBatchPayload,
  FetchedRecord,
  PartitionAssignor,
  TopicAssignment,
  TransportConsumer,
  TransportConsumerOptions,
} from '@cascade/transport';
import { type EachBatchPayload, type Kafka, type PartitionAssigner, PartitionAssigners } from 'kafkajs';
import { toTransportError, transportCall } from './errors.js';
import { rackAwareAssigner } from './rack-aware.js';

function assignersOf(options: TransportConsumerOptions): PartitionAssigner[] {
  const wanted: readonly PartitionAssignor[] = options.assignors ?? ['round-robin'];
  return wanted.map((name) => {
    if (name === 'rack-aware') return rackAwareAssigner({ rack: options.rackId });
    return PartitionAssigners.roundRobin;
  });
}

/**
 * The timestamp type of a kafkajs record's batch: kafkajs keeps the record batch's attributes in
 * an untyped `batchContext` (`timestampType` 1 is LogAppendTime).
 */
function timestampTypeOf(record: FetchedRecord): 'CreateTime' | 'LogAppendTime' {
  const context = (record as { batchContext?: { timestampType?: unknown } }).batchContext;
  return context?.timestampType === 1 ? 'LogAppendTime' : 'CreateTime';
}

/** Runs `fn`, throwing {@link toTransportError} of what it throws (kafkajs' `seek` before `run`). */
function syncCall(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    throw toTransportError(error);
  }
}

/** A kafkajs consumer behind the seam. */
export function kafkajsConsumer(kafka: Kafka, options: TransportConsumerOptions): TransportConsumer {
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    rebalanceTimeout: options.rebalanceTimeoutMs,
    maxWaitTimeInMs: options.fetchMaxWaitMs,
    maxBytesPerPartition: options.maxBytesPerPartition,
    maxBytes: options.maxBytes,
    readUncommitted: !options.readCommitted,
    allowAutoTopicCreation: false,
    metadataMaxAge: options.metadataMaxAgeMs,
    ...(options.rackId === undefined ? {} : { rackId: options.rackId }),
    partitionAssigners: assignersOf(options),
  });
  return {
    connect: () => transportCall(() => consumer.connect()),
    disconnect: () => transportCall(() => consumer.disconnect()),
    stop: () => transportCall(() => consumer.stop()),
    subscribe: (topics, fromBeginning) =>
      transportCall(() => consumer.subscribe({ topics: [...topics], fromBeginning })),
    run: ({ partitionsConcurrently, eachBatch, events }) => {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        events.onJoin(event.payload.memberAssignment as TopicAssignment, event.payload.memberId);
      });
      consumer.on(consumer.events.REBALANCING, () => events.onRebalancing());
      consumer.on(consumer.events.CRASH, (event) => {
        events.onCrash(toTransportError(event.payload.error), event.payload.restart);
      });
      return transportCall(() =>
        consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: partitionsConcurrently,
          eachBatch: (payload: EachBatchPayload) => {
            const heartbeat = payload.heartbeat;
            const wrapped: FetchedBatchPayload = {
              batch: payload.batch,
              resolveOffset: payload.resolveOffset,
              heartbeat: () => transportCall(heartbeat),
              isRunning: payload.isRunning,
              isStale: payload.isStale,
              pause: payload.pause,
            };
            return eachBatch(wrapped);
          },
        }),
      );
    },
    seek: ({ topic, partition, offset }) => syncCall(() => consumer.seek({ topic, partition, offset })),
    pause: (partitions) =>
      syncCall(() =>
        consumer.pause(partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] }))),
      ),
    resume: (partitions) =>
      syncCall(() =>
        consumer.resume(partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] }))),
      ),
    commitOffsets: (offsets) =>
      transportCall(() =>
        consumer.commitOffsets(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
        ),
      ),
    timestampTypeOf,
  };
}
