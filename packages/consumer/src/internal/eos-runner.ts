/**
 * Exactly-once processing: each input partition has its own transactional producer, with the
 * transactional id `<prefix>-<topic>-<partition>`. A batch's handler outputs and the batch's
 * next offset go into one transaction. When a partition moves to another member, the new owner's
 * producer initialises with the same transactional id, which fences the previous owner (a
 * zombie's commit fails with a fenced error) and aborts its open transaction; only then does the
 * new owner read the committed offset. This is the pre-KIP-447 scheme: kafkajs' `sendOffsets`
 * cannot send the consumer group metadata that would let one producer per process suffice.
 * @module
 */

import type { Logger } from '@cascade/core';
import {
  createProducer,
  type Producer,
  ProducerFencedError,
  type ResolvedKafkaConfig,
} from '@cascade/producer';
import { bytes } from '@cascade/schema';
import type { EachBatchPayload, Kafka } from 'kafkajs';
import type { EosProducerOptions } from '../options.js';
import type { OutputRecord, TopicPartition } from '../types.js';
import type { BatchHost } from './batch-runner.js';
import { Abandoned } from './record-processor.js';

type TxProducer = Producer<string | Buffer, Buffer>;

/** The transactional producers of an exactly-once consumer. */
export interface TransactionalOutputs {
  /** The producer of an input partition, and whether it was initialised in this generation. */
  producerFor(topic: string, partition: number): Promise<{ producer: TxProducer; fresh: boolean }>;
  /** The group's committed offset of a partition, read after fencing. */
  committedOffset(topic: string, partition: number): Promise<string | undefined>;
  /** Forgets a producer (after it was fenced or its transaction failed). */
  discard(topic: string, partition: number): Promise<void>;
  /** A new assignment: producers of partitions no longer owned are closed; the rest re-check offsets. */
  onAssigned(partitions: readonly TopicPartition[]): Promise<void>;
  close(): Promise<void>;
}

/** The transactional id of an input partition. */
export function transactionalIdFor(prefix: string, topic: string, partition: number): string {
  return `${prefix}-${topic}-${partition}`;
}

/** Creates the producers' registry. */
export function createTransactionalOutputs(
  kafka: Kafka,
  config: ResolvedKafkaConfig,
  groupId: string,
  options: {
    readonly transactionalIdPrefix: string;
    readonly transactionTimeoutMs: number;
    readonly producer: EosProducerOptions;
  },
  logger: Logger,
): TransactionalOutputs {
  const producers = new Map<string, Promise<TxProducer>>();
  let checked = new Set<string>();
  const keyOf = (topic: string, partition: number): string => `${topic}:${partition}`;
  const closeOne = async (key: string): Promise<void> => {
    const pending = producers.get(key);
    producers.delete(key);
    const producer = await pending?.catch(() => undefined);
    await producer?.close().catch(() => undefined);
  };
  return {
    async producerFor(topic, partition) {
      const key = keyOf(topic, partition);
      let pending = producers.get(key);
      if (pending === undefined) {
        pending = (async () => {
          const { sasl, ...connection } = config;
          const producer: TxProducer = createProducer({
            lingerMs: 0,
            ...options.producer,
            ...connection,
            ...(sasl === undefined ? {} : { sasl }),
            value: bytes(),
            transactionalId: transactionalIdFor(options.transactionalIdPrefix, topic, partition),
            transactionTimeoutMs: options.transactionTimeoutMs,
          });
          await producer.connect();
          return producer;
        })();
        producers.set(key, pending);
        pending.catch(() => producers.delete(key));
      }
      const producer = await pending;
      const fresh = !checked.has(key);
      if (fresh) {
        // Initialise the transactional id now: fences the previous owner and aborts its open transaction.
        await producer.transaction(async () => undefined);
        checked.add(key);
      }
      return { producer, fresh };
    },
    async committedOffset(topic, partition) {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
        const found = offsets[0]?.partitions.find((p) => p.partition === partition)?.offset;
        return found === undefined || found === '-1' ? undefined : found;
      } finally {
        await admin.disconnect();
      }
    },
    async discard(topic, partition) {
      checked.delete(keyOf(topic, partition));
      await closeOne(keyOf(topic, partition));
    },
    async onAssigned(partitions) {
      const owned = new Set(partitions.map((tp) => keyOf(tp.topic, tp.partition)));
      checked = new Set();
      for (const key of [...producers.keys()]) {
        if (!owned.has(key)) await closeOne(key);
      }
      logger.debug('Exactly-once producers ready for the new assignment.', { partitions: owned.size });
    },
    async close() {
      for (const key of [...producers.keys()]) await closeOne(key);
    },
  };
}

function toBuffer(value: Buffer | string | null | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** Runs one batch exactly once: outputs and the next offset in one transaction. */
export async function runEosBatch(
  host: BatchHost & { seek(topic: string, partition: number, offset: string): void },
  outputs: TransactionalOutputs,
  payload: EachBatchPayload,
  groupId: string,
): Promise<void> {
  const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
  host.useHeartbeat(heartbeat);
  const state = host.state(batch.topic, batch.partition);
  if (state === undefined || batch.messages.length === 0) return;
  const signals = host.signals();
  const { producer, fresh } = await outputs.producerFor(batch.topic, batch.partition);
  if (fresh) {
    const committed = await outputs.committedOffset(batch.topic, batch.partition);
    if (committed !== undefined && BigInt(committed) > BigInt(batch.firstOffset() ?? '0')) {
      // Another owner committed further while we were joining: read from there.
      host.seek(batch.topic, batch.partition, committed);
      return;
    }
  }
  const queued: OutputRecord[] = [];
  const committed: (() => void)[] = [];
  let lastDone: string | undefined;
  for (const message of batch.messages) {
    if (signals.dispatch.aborted || !isRunning() || isStale()) break;
    if (!(await host.inFlight.acquire(signals.dispatch))) break;
    try {
      await host.processor.process(state.source, message, signals, (records, afterCommit = []) => {
        queued.push(...records);
        committed.push(...afterCommit);
      });
      lastDone = message.offset;
    } catch (error) {
      if (!(error instanceof Abandoned))
        host.logger.error('Record processing failed unexpectedly.', { error });
      break;
    } finally {
      host.inFlight.release();
    }
  }
  if (lastDone === undefined) return;
  const all = lastDone === batch.messages[batch.messages.length - 1]?.offset;
  const resolved = all ? batch.lastOffset() : lastDone;
  try {
    await producer.transaction(async (tx) => {
      if (queued.length > 0) {
        await tx.sendBatch(
          queued.map((record) => ({
            topic: record.topic,
            key: toBuffer(record.key),
            value: toBuffer(record.value) as Buffer,
            ...(record.headers === undefined ? {} : { headers: record.headers }),
            ...(record.partition === undefined ? {} : { partition: record.partition }),
          })),
        );
      }
      await tx.sendOffsets({
        consumerGroupId: groupId,
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: (BigInt(resolved) + 1n).toString() }],
          },
        ],
      });
    });
    resolveOffset(resolved);
  } catch (error) {
    committed.length = 0;
    const fenced = error instanceof ProducerFencedError;
    host.logger.warn(
      fenced
        ? 'Exactly-once producer fenced: another member owns this partition now. The batch is left to it.'
        : 'Exactly-once transaction failed and was aborted; the batch is read again.',
      { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset(), error },
    );
    await outputs.discard(batch.topic, batch.partition);
    host.seek(batch.topic, batch.partition, batch.firstOffset() ?? '0');
  }
  for (const callback of committed) {
    try {
      callback();
    } catch (error) {
      host.logger.error('An afterCommit callback threw.', { error });
    }
  }
}
