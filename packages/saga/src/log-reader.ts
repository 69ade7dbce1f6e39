/**
 * A read_committed view of the whole saga log, kept current by a consumer that reads it from the
 * beginning and never stops: the latest state of every saga, and the partition it lives on. A
 * coordinator that is assigned a partition writes a barrier record to the log partition and waits
 * until the view has read it; everything committed before the barrier is then in the view.
 * (kafkajs cannot assign a partition to a consumer by hand, which would make this a plain read.)
 * @module
 */

import { randomUUID } from 'node:crypto';
import { type Consumer, createConsumer } from '@cascade/consumer';
import type { Logger } from '@cascade/core';
import type { KafkaConfig, Producer } from '@cascade/producer';
import { bytes } from '@cascade/schema';
import { decodeState, recordFormat } from './codec.js';
import type { SagaState } from './state.js';

const barrierKey = '\u0000cascade-barrier';

/** The view of the saga log. */
export class SagaLogReader {
  readonly #consumer: Consumer;
  readonly #producer: Producer<string, Buffer>;
  readonly #topic: string;
  readonly #logger: Logger;
  readonly #states = new Map<string, { partition: number; state: SagaState }>();
  readonly #barriers = new Map<string, () => void>();
  readonly #stateListeners = new Set<(state: SagaState) => void>();

  constructor(options: {
    kafka: KafkaConfig;
    topic: string;
    groupPrefix: string;
    producer: Producer<string, Buffer>;
    logger: Logger;
  }) {
    this.#topic = options.topic;
    this.#producer = options.producer;
    this.#logger = options.logger;
    this.#consumer = createConsumer({
      kafka: options.kafka,
      // A group of its own, new on every start, so it always reads the whole log.
      groupId: `${options.groupPrefix}.log-view.${randomUUID()}`,
      fromBeginning: true,
      logger: options.logger,
    });
    this.#consumer.subscribe({
      topic: options.topic,
      value: bytes(),
      dlt: false,
      handler: (message) => this.#read(message.key, message.partition, message.value),
    });
  }

  async start(): Promise<void> {
    await this.#consumer.start();
  }

  async stop(): Promise<void> {
    await this.#consumer.stop();
  }

  /**
   * Waits until every state committed to `partition` before now is in the view, and returns the
   * states of that partition.
   */
  async catchUp(partition: number): Promise<Map<string, SagaState>> {
    const id = randomUUID();
    const seen = new Promise<void>((resolve) => this.#barriers.set(id, resolve));
    await this.#producer.send({
      topic: this.#topic,
      partition,
      key: barrierKey,
      value: Buffer.from(JSON.stringify({ v: recordFormat, barrier: id })),
    });
    await seen;
    const states = new Map<string, SagaState>();
    for (const [sagaId, entry] of this.#states)
      if (entry.partition === partition) states.set(sagaId, entry.state);
    return states;
  }

  /** Calls `listener` with every committed state the view reads. */
  onState(listener: (state: SagaState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** The latest committed state of a saga, if the view has one. */
  get(sagaId: string): SagaState | undefined {
    return this.#states.get(sagaId)?.state;
  }

  /** Every saga in the view. */
  all(): SagaState[] {
    return Array.from(this.#states.values(), (entry) => entry.state);
  }

  #read(key: string | null, partition: number, value: Buffer | null): void {
    if (key === barrierKey) {
      const id = (JSON.parse(value?.toString('utf8') ?? '{}') as { barrier?: string }).barrier ?? '';
      this.#barriers.get(id)?.();
      this.#barriers.delete(id);
      return;
    }
    if (key === null) return;
    if (value === null) {
      this.#states.delete(key);
      return;
    }
    let state: SagaState;
    try {
      state = decodeState(value);
    } catch (error) {
      this.#logger.error('Skipping a saga log record that cannot be read.', {
        sagaId: key,
        partition,
        error,
      });
      return;
    }
    this.#states.set(key, { partition, state });
    for (const listener of this.#stateListeners) listener(state);
  }
}
