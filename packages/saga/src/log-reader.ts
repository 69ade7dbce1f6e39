/**
 * A read_committed view of the whole saga log, kept current by a consumer that reads it from the
 * beginning and never stops: the latest state of every saga, and the partition it lives on. A
 * coordinator that is assigned a partition writes a barrier record to the log partition and waits
 * until the view has read it; everything committed before the barrier is then in the view.
 * (kafkajs cannot assign a partition to a consumer by hand, which would make this a plain read.)
 *
 * That wait has a deadline: when a broker dies, the view's consumer can stall (its group's
 * coordinator or the partition's leader was on it, and kafkajs keeps asking the dead node), and a
 * restore must never wait on it for good. `catchUp()` rejects with `SagaRestoreTimeoutError` at
 * the deadline, and a view that read nothing at all in that time is restarted: a new consumer (a
 * new client and group, found afresh) reads the log again from the beginning. States only move
 * forward (a saga's `seq`), so reading again never shows an older state. A view's group is
 * deleted when the view stops (or is replaced), so starting and stopping coordinators leaves no
 * group behind.
 * @module
 */

import { randomUUID } from 'node:crypto';
import { type Consumer, createConsumer } from '@cascade/consumer';
import { AbortedError, delay, type Logger } from '@cascade/core';
import type { KafkaConfig, Producer } from '@cascade/producer';
import { transportClientOf } from '@cascade/producer/internal';
import { bytes } from '@cascade/schema';
import { decodeState, recordFormat } from './codec.js';
import { SagaRestoreTimeoutError } from './errors.js';
import type { SagaState } from './state.js';

const barrierKey = '\u0000cascade-barrier';

/** The default of {@link SagaLogReader.catchUp}'s `timeoutMs`. */
export const defaultRestoreTimeoutMs = 10_000;

/** The view of the saga log. */
export class SagaLogReader {
  readonly #options: {
    readonly kafka: KafkaConfig;
    readonly groupPrefix: string;
  };
  readonly #producer: Producer<string, Buffer>;
  readonly #topic: string;
  readonly #logger: Logger;
  readonly #states = new Map<string, { partition: number; state: SagaState }>();
  readonly #barriers = new Map<string, () => void>();
  readonly #stateListeners = new Set<(state: SagaState) => void>();
  #consumer: Consumer;
  #running = false;
  /** When the view last read a record (any record: a state, a barrier). */
  #lastReadAt = Date.now();
  #restarting: Promise<void> | undefined;
  #restarts = 0;

  constructor(options: {
    kafka: KafkaConfig;
    topic: string;
    groupPrefix: string;
    producer: Producer<string, Buffer>;
    logger: Logger;
  }) {
    this.#options = { kafka: options.kafka, groupPrefix: options.groupPrefix };
    this.#topic = options.topic;
    this.#producer = options.producer;
    this.#logger = options.logger;
    this.#consumer = this.#createConsumer();
  }

  #createConsumer(): Consumer {
    const consumer = createConsumer({
      kafka: this.#options.kafka,
      // A group of its own, new on every start, so it always reads the whole log.
      groupId: `${this.#options.groupPrefix}.log-view.${randomUUID()}`,
      fromBeginning: true,
      logger: this.#logger,
    });
    consumer.subscribe({
      topic: this.#topic,
      value: bytes(),
      dlt: false,
      handler: (message) => this.#read(message.key, message.partition, message.value),
    });
    return consumer;
  }

  /** The group the view reads in now (new after every restart). */
  get groupId(): string {
    return this.#consumer.groupId;
  }

  /** How often the view was restarted after a stall. */
  get restarts(): number {
    return this.#restarts;
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#lastReadAt = Date.now();
    await this.#consumer.start();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#restarting?.catch(() => undefined);
    await this.#retire(this.#consumer);
  }

  /**
   * Closes a view's consumer and deletes its group: a view's group is its own and never read
   * again (the next view reads from the beginning in a new one), so a coordinator started and
   * stopped leaves no group behind. A delete that fails is logged, never thrown: the group, with
   * no member, is the broker's to expire.
   */
  async #retire(consumer: Consumer): Promise<void> {
    await consumer.close();
    const groupId = consumer.groupId;
    const admin = transportClientOf(this.#options.kafka).admin();
    try {
      await admin.connect();
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.deleteGroups([groupId]);
          return;
        } catch (error) {
          // The member's leave may not have reached the coordinator yet (GROUP_NOT_EMPTY).
          if (attempt >= 5) throw error;
          await delay(100 * attempt);
        }
      }
    } catch (error) {
      this.#logger.debug('Deleting the saga log view group failed; it expires on the broker.', {
        group: groupId,
        error,
      });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * Waits until every state committed to `partition` before now is in the view, and returns the
   * states of that partition. Never returns a partial view: at the deadline it rejects instead
   * (and restarts a view that read nothing in the whole time).
   * @param options.timeoutMs how long to wait for the barrier to be written and read.
   *   @default 10000
   * @param options.signal stops waiting (rejecting with `AbortedError`).
   * @throws {SagaRestoreTimeoutError} at the deadline (retriable: call again).
   * @throws {AbortedError} when `signal` aborts.
   */
  async catchUp(
    partition: number,
    options: { readonly timeoutMs?: number; readonly signal?: AbortSignal } = {},
  ): Promise<Map<string, SagaState>> {
    const timeoutMs = options.timeoutMs ?? defaultRestoreTimeoutMs;
    const { signal } = options;
    const id = randomUUID();
    const startedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const seen = new Promise<void>((resolve) => this.#barriers.set(id, resolve));
    const ends = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new SagaRestoreTimeoutError(this.#topic, partition, timeoutMs));
        // Read nothing since the wait began: the consumer is stuck, not slow. A new one.
        if (this.#lastReadAt < startedAt) this.#restart(partition);
      }, timeoutMs);
      onAbort = () =>
        reject(new AbortedError(`restore saga log partition ${partition}`, { cause: signal?.reason }));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    const sent = this.#producer.send({
      topic: this.#topic,
      partition,
      key: barrierKey,
      value: Buffer.from(JSON.stringify({ v: recordFormat, barrier: id })),
    });
    try {
      await Promise.race([Promise.all([sent, seen]), ends]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      this.#barriers.delete(id);
      sent.catch(() => undefined);
      ends.catch(() => undefined);
    }
    const states = new Map<string, SagaState>();
    for (const [sagaId, entry] of this.#states)
      if (entry.partition === partition) states.set(sagaId, entry.state);
    return states;
  }

  /**
   * Replaces the consumer with a new one (new client, new group: a coordinator found afresh),
   * reading from the beginning. The old one is stopped in the background: its stop may hang as it
   * did. Barriers still awaited are read by the new one (they are in the log).
   */
  #restart(partition: number): void {
    if (!this.#running || this.#restarting !== undefined) return;
    const stalled = this.#consumer;
    this.#restarts++;
    this.#logger.warn('The saga log view read nothing before the restore deadline; restarting it.', {
      partition,
      group: stalled.groupId,
      idleMs: Date.now() - this.#lastReadAt,
    });
    const fresh = this.#createConsumer();
    this.#consumer = fresh;
    this.#lastReadAt = Date.now();
    this.#retire(stalled).catch((error: unknown) =>
      this.#logger.warn('Stopping the stalled saga log view failed.', { error }),
    );
    this.#restarting = fresh
      .start()
      .catch((error: unknown) =>
        this.#logger.warn('Restarting the saga log view failed; it is tried again on the next deadline.', {
          error,
        }),
      )
      .finally(() => {
        this.#restarting = undefined;
        if (!this.#running) this.#retire(fresh).catch(() => undefined);
      });
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
    this.#lastReadAt = Date.now();
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
    // Only forward: a view read again from the beginning (or an old consumer still draining next to
    // a new one) passes older states of a saga first.
    const known = this.#states.get(key);
    if (known !== undefined && known.state.seq > state.seq) return;
    this.#states.set(key, { partition, state });
    for (const listener of this.#stateListeners) listener(state);
  }
}
