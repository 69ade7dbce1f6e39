/**
 * Exactly-once processing: each input partition has its own transactional producer, with the
 * transactional id `<prefix>-<topic>-<partition>`. A batch's handler outputs and the batch's
 * next offset go into one transaction. When a partition moves to another member, the new owner's
 * producer initialises with the same transactional id, which fences the previous owner (a
 * zombie's commit fails with a fenced error) and aborts its open transaction; only then does the
 * new owner read the committed offset. This is the pre-KIP-447 scheme: the transport's
 * `sendOffsets` sends no consumer group metadata (kafkajs' cannot), which would let one producer
 * per process suffice.
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
import type { FetchedBatchPayload, FetchedRecord, TransportClient } from '@cascade/transport';
import type { EosProducerOptions } from '../options.js';
import type { OutputRecord, TopicPartition } from '../types.js';
import { runBatchHandler } from './batch-handler.js';
import type { BatchHost } from './batch-runner.js';
import type { PartitionState } from './partition-state.js';
import { Abandoned, type OutputSink, type Signals } from './record-processor.js';
import { duePrefix, pauseBefore } from './retry-due.js';

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

/** The transactional id of an input partition. @internal */
export function transactionalIdFor(prefix: string, topic: string, partition: number): string {
  return `${prefix}-${topic}-${partition}`;
}

/** Creates the producers' registry. */
export function createTransactionalOutputs(
  client: TransportClient,
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
  /**
   * This assignment's transactional ids, initialised as soon as it is known: the previous owner
   * is fenced and its open transaction aborted at once, not when the partition's first batch
   * comes (a read_committed reader of what it wrote, a saga restore, waits on that transaction).
   */
  let initialised = new Map<string, Promise<void>>();
  const keyOf = (topic: string, partition: number): string => `${topic}:${partition}`;
  const closeOne = async (key: string): Promise<void> => {
    const pending = producers.get(key);
    producers.delete(key);
    const producer = await pending?.catch(() => undefined);
    await producer?.close().catch(() => undefined);
  };
  const producerOf = (key: string, topic: string, partition: number): Promise<TxProducer> => {
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
    return pending;
  };
  return {
    async producerFor(topic, partition) {
      const key = keyOf(topic, partition);
      const producer = await producerOf(key, topic, partition);
      const fresh = !checked.has(key);
      if (fresh) {
        // Initialise the transactional id now (unless the assignment did): fences the previous
        // owner and aborts its open transaction.
        const early = initialised.get(key);
        initialised.delete(key);
        await (early ?? Promise.reject(new Error('not initialised'))).catch(() =>
          producer.transaction(async () => undefined),
        );
        checked.add(key);
      }
      return { producer, fresh };
    },
    async committedOffset(topic, partition) {
      const admin = client.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchGroupOffsets(groupId, [topic]);
        const found = offsets.find((p) => p.topic === topic && p.partition === partition)?.offset;
        return found === undefined || found === '-1' ? undefined : found;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    async discard(topic, partition) {
      checked.delete(keyOf(topic, partition));
      initialised.delete(keyOf(topic, partition));
      await closeOne(keyOf(topic, partition));
    },
    async onAssigned(partitions) {
      const owned = new Set(partitions.map((tp) => keyOf(tp.topic, tp.partition)));
      checked = new Set();
      initialised = new Map();
      for (const key of [...producers.keys()]) {
        if (!owned.has(key)) await closeOne(key);
      }
      // In the background: the first batch of a partition waits for its own (or initialises it).
      for (const { topic, partition } of partitions) {
        const key = keyOf(topic, partition);
        const early = producerOf(key, topic, partition).then((producer) =>
          producer.transaction(async () => undefined),
        );
        early.catch((error: unknown) =>
          logger.debug('Initialising a transactional id at assignment failed; the first batch does it.', {
            topic,
            partition,
            error,
          }),
        );
        initialised.set(key, early);
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

/** What the exactly-once runner needs from its consumer. */
export interface EosBatchHost extends BatchHost {
  /** Moves the consumer's position in a partition (the transport consumer's `seek`). */
  seek(topic: string, partition: number, offset: string): void;
}

/** What {@link unlessAbandoned} resolves to when the signal aborted first. */
export const abandoned: unique symbol = Symbol('abandoned');

/**
 * Settles like `work`, or resolves {@link abandoned} once `signal` aborts, whichever comes first
 * (a rejection of `work` after that is dropped). Every await of the exactly-once runner on the
 * Kafka client goes through this: a request that never settles (a broker restarting) must not
 * keep the batch from returning, or the client never rejoins the group and the consumer stalls.
 */
export function unlessAbandoned<T>(work: Promise<T>, signal: AbortSignal): Promise<T | typeof abandoned> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.resolve(abandoned);
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(abandoned);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** What the handlers of a batch produced: sends and dead letters to commit, and where they stopped. */
interface Processed {
  readonly queued: OutputRecord[];
  readonly callbacks: (() => void)[];
  /** The last record finished, in order; `undefined` when none was. */
  readonly lastDone: string | undefined;
  /** How long to pause the partition before its next record is due (a retry topic), or 0. */
  readonly pauseMs: number;
}

/** Hands the batch's due records to the handler, queueing their outputs for the transaction. */
async function processRecords(
  host: EosBatchHost,
  state: PartitionState,
  payload: FetchedBatchPayload,
  signals: Signals,
): Promise<Processed> {
  const { batch, isRunning, isStale } = payload;
  const queued: OutputRecord[] = [];
  const callbacks: (() => void)[] = [];
  const sink: OutputSink = (records, afterCommit = []) => {
    queued.push(...records);
    callbacks.push(...afterCommit);
  };
  const { retryStage } = state.source;
  if (state.source.subscription.batchHandler !== undefined) {
    const { due, pauseMs } = duePrefix(batch.messages, retryStage);
    if (due.length === 0) return { queued, callbacks, lastDone: undefined, pauseMs };
    if (!(await host.inFlight.acquire(signals.dispatch))) {
      return { queued, callbacks, lastDone: undefined, pauseMs: 0 };
    }
    try {
      const finished = await runBatchHandler(host, state, due, signals, sink);
      const last = due[due.length - 1] as FetchedRecord;
      return finished
        ? { queued, callbacks, lastDone: last.offset, pauseMs }
        : { queued, callbacks, lastDone: undefined, pauseMs: 0 };
    } finally {
      host.inFlight.release();
    }
  }
  let lastDone: string | undefined;
  for (const message of batch.messages) {
    if (signals.dispatch.aborted || !isRunning() || isStale()) break;
    // A retry-topic record not yet due: stop here and pause the partition until it is, so the
    // fetch loop (and with it every other partition, the main topic's too) goes on meanwhile.
    const pauseMs = pauseBefore(message, retryStage);
    if (pauseMs > 0) return { queued, callbacks, lastDone, pauseMs };
    if (!(await host.inFlight.acquire(signals.dispatch))) break;
    try {
      await host.processor.process(state.source, message, signals, sink);
      lastDone = message.offset;
    } catch (error) {
      if (!(error instanceof Abandoned))
        host.logger.error('Record processing failed unexpectedly.', { error });
      break;
    } finally {
      host.inFlight.release();
    }
  }
  return { queued, callbacks, lastDone, pauseMs: 0 };
}

/**
 * Runs one batch exactly once: outputs and the next offset in one transaction. Each wait (the
 * producer, the committed offset, the handlers, the transaction, discarding a failed producer)
 * ends at the abandon deadline: the batch then returns with nothing resolved, its producer is
 * discarded (its transaction, if it ever completes, commits outputs and offsets together; else
 * it is aborted when the partition's next producer fences it), and its records are read again
 * from the committed offset. `afterCommit` callbacks of an abandoned batch never run.
 */
export async function runEosBatch(
  host: EosBatchHost,
  outputs: TransactionalOutputs,
  payload: FetchedBatchPayload,
  groupId: string,
): Promise<void> {
  const { batch, resolveOffset, heartbeat, pause } = payload;
  const { topic, partition } = batch;
  host.useHeartbeat(heartbeat);
  const state = host.state(topic, partition);
  if (state === undefined || batch.messages.length === 0) return;
  const signals = host.signals();
  if (signals.dispatch.aborted) return;
  const where = { topic, partition, firstOffset: batch.firstOffset() };
  const giveUp = (waitingFor: string): void => {
    host.logger.warn(
      `Exactly-once batch abandoned at the deadline while waiting for ${waitingFor}; its records are read again.`,
      where,
    );
    void outputs.discard(topic, partition).catch(() => undefined);
  };
  const ready = await unlessAbandoned(outputs.producerFor(topic, partition), signals.abandon);
  if (ready === abandoned) return giveUp('its transactional producer');
  const { producer, fresh } = ready;
  if (fresh) {
    const committed = await unlessAbandoned(outputs.committedOffset(topic, partition), signals.abandon);
    if (committed === abandoned) return giveUp('the committed offset');
    if (committed !== undefined && BigInt(committed) > BigInt(batch.firstOffset() ?? '0')) {
      // Another owner committed further while we were joining: read from there.
      host.seek(topic, partition, committed);
      return;
    }
  }
  const processed = await unlessAbandoned(processRecords(host, state, payload, signals), signals.abandon);
  if (processed === abandoned) return giveUp('its handlers');
  const { queued, callbacks, lastDone, pauseMs } = processed;
  if (lastDone !== undefined) {
    const all = lastDone === batch.messages[batch.messages.length - 1]?.offset;
    const resolved = all ? batch.lastOffset() : lastDone;
    const sent = producer.transaction(async (tx) => {
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
        topics: [{ topic, partitions: [{ partition, offset: (BigInt(resolved) + 1n).toString() }] }],
      });
    });
    const outcome = await unlessAbandoned(
      sent.then(
        () => undefined,
        (error: unknown) => ({ error }),
      ),
      signals.abandon,
    );
    if (outcome === abandoned) return giveUp('its transaction');
    if (outcome !== undefined) {
      const fenced = outcome.error instanceof ProducerFencedError;
      host.logger.warn(
        fenced
          ? 'Exactly-once producer fenced: another member owns this partition now. The batch is left to it.'
          : 'Exactly-once transaction failed and was aborted; the batch is read again.',
        { ...where, error: outcome.error },
      );
      await unlessAbandoned(outputs.discard(topic, partition), signals.abandon);
      host.seek(topic, partition, batch.firstOffset() ?? '0');
      return;
    }
    resolveOffset(resolved);
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        host.logger.error('An afterCommit callback threw.', { error });
      }
    }
  }
  if (pauseMs > 0 && !signals.dispatch.aborted) host.resumeLater(pause(), pauseMs);
}
