/**
 * The handle `producer.transaction(async (tx) => ...)` passes to its callback.
 * @module
 */

import { delay } from '@cascade/core';
import type { TransportTransaction } from '@cascade/transport';
import type { Accumulator } from './accumulator.js';
import { type ProducerError, TransactionStateError } from './errors.js';
import type { RecordPipeline } from './internal/pipeline.js';
import type { ProducerRecord, RecordMetadata, SendOptions } from './types.js';

/** Offsets to commit with a transaction: the *next* offset to consume, per partition. */
export interface TransactionOffsets {
  /** The consumer group whose offsets are committed. */
  readonly consumerGroupId: string;
  readonly topics: ReadonlyArray<{
    readonly topic: string;
    readonly partitions: ReadonlyArray<{ readonly partition: number; readonly offset: string }>;
  }>;
}

/**
 * Sends inside one Kafka transaction. Everything sent (and the offsets given to
 * {@link Transaction.sendOffsets}) becomes visible to `read_committed` consumers atomically
 * when the callback returns, and never if it throws.
 */
export interface Transaction<K, V> {
  /** Sends a record in this transaction (through the batching path). */
  send(record: ProducerRecord<K, V>, options?: SendOptions): Promise<RecordMetadata>;
  /** Sends records in this transaction; rejects with the first failure. */
  sendBatch(records: readonly ProducerRecord<K, V>[], options?: SendOptions): Promise<RecordMetadata[]>;
  /**
   * Commits consumer offsets with the transaction (consume-transform-produce). kafkajs 2.2.4
   * sends `TxnOffsetCommit` without the consumer's generation and member id (KIP-447 group
   * metadata), so zombie fencing relies on the transactional id: use one transactional id per
   * input partition. A coordinator that moved or is loading (`NOT_COORDINATOR`,
   * `COORDINATOR_NOT_AVAILABLE`, `COORDINATOR_LOAD_IN_PROGRESS`, in kafkajs' names too) or that
   * still completes the previous transaction (`CONCURRENT_TRANSACTIONS`) is asked again, with
   * backoff from 20 ms to 1 s, until the transaction's deadline (three quarters of `transactionTimeoutMs`
   * after it began, leaving time to commit); then the error is thrown and the transaction aborts.
   */
  sendOffsets(offsets: TransactionOffsets): Promise<void>;
  /** Whether the transaction still accepts sends. */
  readonly active: boolean;
}

/**
 * The errors after which `sendOffsets` is sent again: the group or transaction coordinator moved
 * (its broker died, leadership of its `__consumer_offsets` / `__transaction_state` partition
 * changed), is still loading its partition, or is still completing the previous transaction.
 * Both the protocol's names and kafkajs' own (`GROUP_COORDINATOR_NOT_AVAILABLE` is code 15,
 * which kafkajs' TxnOffsetCommit retry list misses under its protocol name).
 */
const sendOffsetsRetriableTypes: ReadonlySet<string> = new Set([
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
]);

/** kafkajs error names that say the coordinator's broker cannot be reached right now. */
const sendOffsetsRetriableNames: ReadonlySet<string> = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
]);

/**
 * Whether a failed `sendOffsets` may be sent again in the same transaction: the coordinator
 * moved, is loading, or still completes the previous transaction (see above), also when kafkajs
 * wraps the error (`KafkaJSNumberOfRetriesExceeded`, `cause`). A fenced producer, an
 * authorization failure or anything unknown is not.
 * @internal
 */
export function isRetriableSendOffsetsError(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const like = current as {
      type?: unknown;
      kafkaType?: unknown;
      kind?: unknown;
      name?: unknown;
      originalError?: unknown;
      cause?: unknown;
    };
    if (like.kind === 'connection') return true;
    if (typeof like.kafkaType === 'string' && sendOffsetsRetriableTypes.has(like.kafkaType)) return true;
    if (typeof like.kafkaType === 'string' && sendOffsetsRetriableNames.has(like.kafkaType)) return true;
    if (typeof like.type === 'string' && sendOffsetsRetriableTypes.has(like.type)) return true;
    if (typeof like.name === 'string' && sendOffsetsRetriableNames.has(like.name)) return true;
    current = like.originalError ?? like.cause;
  }
  return false;
}

/** The backoff before the `attempt`-th retry of `sendOffsets`: 20 ms doubling to 1 s. */
export function sendOffsetsBackoffMs(attempt: number): number {
  return Math.min(20 * 2 ** (attempt - 1), 1_000);
}

/** @internal The implementation of {@link Transaction}. */
export class TransactionHandle<K, V> implements Transaction<K, V> {
  readonly #pipeline: RecordPipeline<K, V>;
  readonly #accumulator: Accumulator;
  readonly #transport: Pick<TransportTransaction, 'sendOffsets'>;
  readonly #toError: (error: unknown, operation: string) => ProducerError;
  readonly #deadline: number;
  #active = true;
  #firstFailure: unknown;

  constructor(
    pipeline: RecordPipeline<K, V>,
    accumulator: Accumulator,
    transport: Pick<TransportTransaction, 'sendOffsets'>,
    toError: (error: unknown, operation: string) => ProducerError,
    deadline = Number.POSITIVE_INFINITY,
  ) {
    this.#pipeline = pipeline;
    this.#accumulator = accumulator;
    this.#transport = transport;
    this.#toError = toError;
    this.#deadline = deadline;
  }

  get active(): boolean {
    return this.#active;
  }

  /** The first send that failed, if any: the transaction must not commit. */
  get firstFailure(): unknown {
    return this.#firstFailure;
  }

  #assertActive(operation: string): void {
    if (!this.#active) {
      throw new TransactionStateError(
        `Cannot ${operation}: the transaction has ended. Send only inside the transaction() callback, and await the sends.`,
      );
    }
  }

  send(record: ProducerRecord<K, V>, options?: SendOptions): Promise<RecordMetadata> {
    try {
      this.#assertActive('send');
    } catch (error) {
      return Promise.reject(error);
    }
    const sent = this.#pipeline.send(this.#accumulator, record, options?.signal);
    sent.catch((error: unknown) => {
      this.#firstFailure ??= error;
    });
    return sent;
  }

  sendBatch(records: readonly ProducerRecord<K, V>[], options?: SendOptions): Promise<RecordMetadata[]> {
    try {
      this.#assertActive('send');
    } catch (error) {
      return Promise.reject(error);
    }
    const sent = this.#pipeline.sendMany(this.#accumulator, records, options?.signal);
    sent.catch((error: unknown) => {
      this.#firstFailure ??= error;
    });
    this.#accumulator.sendNow();
    this.#pipeline.settled().then(
      () => this.#accumulator.sendNow(),
      () => undefined,
    );
    return sent;
  }

  async sendOffsets(offsets: TransactionOffsets): Promise<void> {
    this.#assertActive('sendOffsets');
    const request = {
      groupId: offsets.consumerGroupId,
      topics: offsets.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })),
      })),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        // Each attempt asks the client for the transaction and group coordinators afresh.
        await this.#transport.sendOffsets(request);
        return;
      } catch (error) {
        // kafkajs 2.2.4 does not retry AddOffsetsToTxn on CONCURRENT_TRANSACTIONS, and its
        // TxnOffsetCommit retry misses the coordinator errors under the names it reports: a
        // coordinator failover would abort the transaction. Retry them until the deadline.
        const wait = sendOffsetsBackoffMs(attempt);
        if (isRetriableSendOffsetsError(error) && Date.now() + wait < this.#deadline) {
          await delay(wait);
          if (this.#active) continue;
        }
        const mapped = this.#toError(error, 'Sending offsets to the transaction');
        this.#firstFailure ??= mapped;
        throw mapped;
      }
    }
  }

  /** Refuses further sends. */
  end(): void {
    this.#active = false;
  }
}
