/**
 * The handle `producer.transaction(async (tx) => ...)` passes to its callback.
 * @module
 */

import { delay } from '@cascade/core';
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
   * input partition.
   */
  sendOffsets(offsets: TransactionOffsets): Promise<void>;
  /** Whether the transaction still accepts sends. */
  readonly active: boolean;
}

/** Attempts of AddOffsetsToTxn while the coordinator reports CONCURRENT_TRANSACTIONS (~10 s in all). */
const maxConcurrentRetries = 25;

interface KafkajsTransactionLike {
  sendOffsets(offsets: {
    consumerGroupId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
}

/** @internal The implementation of {@link Transaction}. */
export class TransactionHandle<K, V> implements Transaction<K, V> {
  readonly #pipeline: RecordPipeline<K, V>;
  readonly #accumulator: Accumulator;
  readonly #kafkajs: KafkajsTransactionLike;
  readonly #toError: (error: unknown, operation: string) => ProducerError;
  #active = true;
  #firstFailure: unknown;

  constructor(
    pipeline: RecordPipeline<K, V>,
    accumulator: Accumulator,
    kafkajs: KafkajsTransactionLike,
    toError: (error: unknown, operation: string) => ProducerError,
  ) {
    this.#pipeline = pipeline;
    this.#accumulator = accumulator;
    this.#kafkajs = kafkajs;
    this.#toError = toError;
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
      consumerGroupId: offsets.consumerGroupId,
      topics: offsets.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })),
      })),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#kafkajs.sendOffsets(request);
        return;
      } catch (error) {
        // The coordinator still completes the previous transaction: kafkajs 2.2.4 does not retry
        // AddOffsetsToTxn on CONCURRENT_TRANSACTIONS, the Java client does. So do we, briefly.
        if (
          (error as { type?: unknown }).type === 'CONCURRENT_TRANSACTIONS' &&
          attempt < maxConcurrentRetries
        ) {
          await delay(Math.min(20 * 2 ** (attempt - 1), 500));
          continue;
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
