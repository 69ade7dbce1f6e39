/**
 * `createProducer()`: a typed Kafka producer with batching, partitioners, interceptors,
 * idempotent and transactional sends.
 * @module
 */

import {
  AbortedError,
  ConfigError,
  cascadeChannel,
  DiagnosticChannels,
  describeValue,
  Lifecycle,
  type LifecycleState,
  type Logger,
} from '@cascade/core';
import {
  type ProduceOptions,
  TransportError,
  type TransportProducer,
  type TransportTransaction,
} from '@cascade/transport';
import { Accumulator, type AccumulatorStats, type Sink } from './accumulator.js';
import { type CircuitState, isConnectivityError, SinkCircuitBreaker } from './circuit-breaker.js';
import {
  CircuitOpenError,
  type ProducerError,
  ProducerFencedError,
  TransactionStateError,
} from './errors.js';
import { toProducerError } from './internal/error-mapping.js';
import { TopicMetadata } from './internal/metadata.js';
import { RecordPipeline } from './internal/pipeline.js';
import { transportClientOf } from './internal/transport-client.js';
import {
  type ProducerOptions,
  type RawKey,
  type ResolvedProducerOptions,
  resolveProducerOptions,
} from './options.js';
import { type Transaction, TransactionHandle } from './transaction.js';
import type { ProducerRecord, RecordMetadata, SendOptions } from './types.js';

/** A typed producer. Create it with {@link createProducer}. */
export interface Producer<K, V> extends AsyncDisposable {
  /**
   * `idle`, `connecting`, `running`, `stopping`, `stopped`, or `failed` (closed with an error,
   * fenced, or its last start failed: then `connect()` or a send starts it again).
   */
  readonly state: LifecycleState;
  /** The circuit breaker's state, or `'disabled'`. */
  readonly circuitState: CircuitState | 'disabled';
  /** Requests, batches and buffered bytes so far. */
  readonly stats: AccumulatorStats;
  /**
   * Connects (also done by the first send). Idempotent while it runs. When connecting fails
   * (no broker reachable), the producer is `failed` until the next `start()` or `send()`,
   * which tries again.
   */
  start(): Promise<void>;
  /** @deprecated Renamed {@link Producer.start}: every Cascade client starts with `start()`. */
  connect(): Promise<void>;
  /**
   * Queues a record and resolves with where the broker stored it. Safe to call concurrently:
   * records are batched per partition, and kept in call order per partition.
   */
  send(record: ProducerRecord<K, V>, options?: SendOptions): Promise<RecordMetadata>;
  /** Sends records (batched like `send()`); resolves with their metadata in order, rejects with the first failure. */
  sendBatch(records: readonly ProducerRecord<K, V>[], options?: SendOptions): Promise<RecordMetadata[]>;
  /**
   * Sends everything queued and resolves once each record queued before the call has settled.
   * `signal` stops the waiting (with `AbortedError`), not the sending.
   */
  flush(options?: SendOptions): Promise<void>;
  /**
   * Runs `fn` in a Kafka transaction: commits when it returns, aborts when it (or any of its
   * sends) fails, and rethrows. Concurrent calls run one after another. Needs `transactionalId`.
   */
  transaction<T>(fn: (tx: Transaction<K, V>) => Promise<T>): Promise<T>;
  /** Flushes, then disconnects. Idempotent. Sends after it throw `ClosedError`. */
  close(): Promise<void>;
  /** @deprecated Renamed {@link Producer.close}: every Cascade client ends with `close()`. */
  disconnect(): Promise<void>;
}

/**
 * Creates a producer whose key and value types come from its serdes.
 *
 * @example
 * ```ts
 * await using producer = createProducer({ kafka: { brokers: ['127.0.0.1:9092'] }, key: string(), value: json<Order>() });
 * const { partition, offset } = await producer.send({ topic: 'orders', key: order.id, value: order });
 * ```
 */
export function createProducer<V, K = RawKey>(options: ProducerOptions<K, V>): Producer<K, V> {
  return new CascadeProducer(resolveProducerOptions(options));
}

const sendChannel = cascadeChannel<object>(DiagnosticChannels.producerSend);
const transactionChannel = cascadeChannel<object>(DiagnosticChannels.producerTransaction);

class CascadeProducer<K, V> implements Producer<K, V> {
  readonly #options: ResolvedProducerOptions<K, V>;
  readonly #logger: Logger;
  #lifecycle = new Lifecycle('producer');
  /** The last start failed (and nothing closed the producer since): the next start tries again. */
  #startFailed = false;
  readonly #producer: TransportProducer;
  readonly #metadata: TopicMetadata;
  readonly #pipeline: RecordPipeline<K, V>;
  readonly #accumulator: Accumulator;
  readonly #breaker: SinkCircuitBreaker | undefined;
  readonly #disconnectAdmin: () => Promise<void>;
  readonly #connectAdmin: () => Promise<void>;
  #fenced: ProducerFencedError | undefined;
  #transactions: Promise<unknown> = Promise.resolve();

  constructor(options: ResolvedProducerOptions<K, V>) {
    this.#options = options;
    this.#logger = options.kafka.logger.child({ component: 'producer', clientId: options.kafka.clientId });
    const client = transportClientOf(options.kafka);
    this.#producer = client.producer({
      idempotent: options.idempotent,
      ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId }),
      transactionTimeoutMs: options.transactionTimeoutMs,
      metadataMaxAgeMs: options.metadataMaxAgeMs,
      // The client found a leader elsewhere than the producer's map says: refresh it now rather
      // than after metadataMaxAgeMs, so the next requests are grouped by the right broker.
      onLeadersMoved: (topics) => {
        for (const topic of topics) this.#metadata.refresh(topic);
      },
    });
    // The metadata admin retries once: the producer's own loop waits and tries again.
    const admin = client.admin({
      retry: { ...options.kafka.retry, initialIntervalMs: 100, maximumIntervalMs: 1_000, maximumAttempts: 2 },
    });
    this.#connectAdmin = () => admin.connect();
    this.#disconnectAdmin = () => admin.disconnect();
    this.#metadata = new TopicMetadata(admin, options.metadataMaxAgeMs, options.maxBlockMs, this.#logger);
    this.#pipeline = new RecordPipeline(options, this.#metadata, this.#logger);
    const produce = this.#producer.produce;
    const produceOptions = this.#produceOptions(options.acks);
    let sink: Sink = (batches) => produce(batches, produceOptions);
    if (options.circuitBreaker !== undefined) {
      this.#breaker = new SinkCircuitBreaker(sink, this.#toError, options.circuitBreaker, this.#logger);
      sink = this.#breaker.sink;
    }
    this.#accumulator = this.#newAccumulator(sink, options.maxInFlight);
  }

  #produceOptions(acks: -1 | 0 | 1): ProduceOptions {
    return { acks, timeoutMs: this.#options.ackTimeoutMs, compression: this.#options.compression };
  }

  readonly #toError = (error: unknown, batch: { topic: string; partition: number }): ProducerError =>
    toProducerError(error, {
      operation: 'Producing',
      ...(batch.topic === '?' ? {} : { topic: batch.topic }),
      ...(batch.partition < 0 ? {} : { partition: batch.partition }),
    });

  #newAccumulator(sink: Sink, maxInFlight: number): Accumulator {
    const o = this.#options;
    return new Accumulator({
      lingerMs: o.lingerMs,
      batchBytes: o.batchBytes,
      bufferMemoryBytes: o.bufferMemoryBytes,
      maxBlockMs: o.maxBlockMs,
      maxInFlight,
      deliveryTimeoutMs: o.deliveryTimeoutMs,
      retryBackoff: o.kafka.retry,
      sink,
      leaderOf: (topic, partition) => this.#metadata.leaderOf(topic, partition),
      toError: this.#toError,
      shouldRetry: (error) => error.retriable && !(error instanceof CircuitOpenError),
      onRequestError: (error, batches) => {
        if (error instanceof ProducerFencedError) this.#fence(error);
        else if (error.retriable)
          for (const topic of new Set(batches.map((b) => b.topic))) this.#metadata.refresh(topic);
        if (!isConnectivityError(error)) return;
        this.#logger.debug('Produce request failed', { error: error.message });
      },
      logger: this.#logger,
    });
  }

  #fence(error: ProducerFencedError): void {
    if (this.#fenced !== undefined) return;
    this.#fenced = error;
    this.#logger.error(
      'Producer fenced: another producer uses the same transactionalId. It refuses every send.',
      {
        transactionalId: this.#options.transactionalId,
      },
    );
    this.#accumulator.failAll(error);
  }

  get state(): LifecycleState {
    return this.#fenced !== undefined && !this.#lifecycle.closed ? 'failed' : this.#lifecycle.state;
  }

  get circuitState(): CircuitState | 'disabled' {
    return this.#breaker?.state ?? 'disabled';
  }

  get stats(): AccumulatorStats {
    return this.#accumulator.stats;
  }

  connect(): Promise<void> {
    return this.start();
  }

  start(): Promise<void> {
    // A failed start is not the end: start() (or a send) starts again, with a fresh lifecycle.
    if (this.#startFailed && this.#lifecycle.state === 'failed') {
      this.#lifecycle = new Lifecycle('producer');
      this.#startFailed = false;
    }
    return this.#lifecycle.start(async () => {
      try {
        await Promise.all([this.#producer.connect(), this.#connectAdmin()]);
      } catch (error) {
        await Promise.allSettled([this.#producer.disconnect(), this.#disconnectAdmin()]);
        this.#startFailed = true;
        throw toProducerError(error, { operation: `Connecting to ${this.#options.kafka.brokers.join(',')}` });
      }
      this.#logger.info('Producer connected', { brokers: this.#options.kafka.brokers });
    });
  }

  #refuse(operation: string, topic: string | undefined): Error | undefined {
    if (this.#fenced !== undefined) return this.#fenced;
    if (this.#breaker?.state === 'open') return this.#breaker.openError(topic);
    // A failed start: the send starts the producer again.
    if (this.#startFailed && this.#lifecycle.state === 'failed') return undefined;
    try {
      this.#lifecycle.assertUsable(operation);
    } catch (error) {
      return error as Error;
    }
    return undefined;
  }

  send(record: ProducerRecord<K, V>, options?: SendOptions): Promise<RecordMetadata> {
    const malformed = malformedRecord(record, 'record');
    if (malformed !== undefined) return Promise.reject(malformed);
    const refused = this.#refuse('send', record.topic ?? this.#options.defaultTopic);
    if (refused !== undefined) return Promise.reject(refused);
    if (this.#options.transactionalId !== undefined) {
      return Promise.reject(
        new TransactionStateError(
          'A transactional producer sends only inside transaction(async (tx) => tx.send(...)).',
          record.topic === undefined ? {} : { topic: record.topic },
        ),
      );
    }
    if (sendChannel.hasSubscribers) {
      const context = { topic: record.topic ?? this.#options.defaultTopic, partition: record.partition };
      return sendChannel.tracePromise(() => this.#send(record, options), context);
    }
    return this.#send(record, options);
  }

  #send(record: ProducerRecord<K, V>, options: SendOptions | undefined): Promise<RecordMetadata> {
    if (this.#lifecycle.state === 'running') {
      return this.#pipeline.send(this.#accumulator, record, options?.signal);
    }
    return this.start().then(() => this.#pipeline.send(this.#accumulator, record, options?.signal));
  }

  sendBatch(records: readonly ProducerRecord<K, V>[], options?: SendOptions): Promise<RecordMetadata[]> {
    if (!Array.isArray(records)) {
      return Promise.reject(
        new ConfigError('records', `expected an array of records, got ${describeValue(records)}.`),
      );
    }
    for (let i = 0; i < records.length; i++) {
      const malformed = malformedRecord(records[i], `records[${i}]`);
      if (malformed !== undefined) return Promise.reject(malformed);
    }
    const sent = this.#sendMany(records, options);
    // The caller batched already: send without lingering, once every record is queued.
    this.#accumulator.sendNow();
    this.#pipeline.settled().then(() => this.#accumulator.sendNow(), noop);
    return sent;
  }

  #sendMany(records: readonly ProducerRecord<K, V>[], options?: SendOptions): Promise<RecordMetadata[]> {
    // Traced sends, sends before the connection is up and refused ones take send()'s path
    // record by record; the common case, the batch path: one check, no promise per record.
    if (
      sendChannel.hasSubscribers ||
      this.#lifecycle.state !== 'running' ||
      this.#options.transactionalId !== undefined ||
      this.#refuse('send', undefined) !== undefined
    ) {
      return Promise.all(records.map((record) => this.send(record, options)));
    }
    return this.#pipeline.sendMany(this.#accumulator, records, options?.signal);
  }

  flush(options?: SendOptions): Promise<void> {
    const signal = options?.signal;
    const done = this.#flush();
    if (signal === undefined) return done;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(new AbortedError('flush', { cause: signal.reason }));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      done.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  async #flush(): Promise<void> {
    // Sends made before the connection was up, or waiting on an async serde, are not in the
    // accumulator yet: let them in first (their callbacks were registered before ours).
    if (this.#lifecycle.state === 'connecting') await this.start().catch(() => undefined);
    await this.#pipeline.settled();
    await this.#accumulator.flush();
  }

  transaction<T>(fn: (tx: Transaction<K, V>) => Promise<T>): Promise<T> {
    const refused = this.#refuse('run a transaction', undefined);
    if (refused !== undefined) return Promise.reject(refused);
    if (this.#options.transactionalId === undefined) {
      return Promise.reject(
        new TransactionStateError('transaction() needs a producer created with a transactionalId.'),
      );
    }
    const run = (): Promise<T> => {
      const refusedNow = this.#refuse('run a transaction', undefined);
      if (refusedNow !== undefined) return Promise.reject(refusedNow);
      if (transactionChannel.hasSubscribers) {
        return transactionChannel.tracePromise(() => this.#runTransaction(fn), {
          transactionalId: this.#options.transactionalId,
        });
      }
      return this.#runTransaction(fn);
    };
    const result = this.#transactions.then(run, run);
    this.#transactions = result.catch(() => undefined);
    return result;
  }

  #txError(error: unknown, operation: string): ProducerError {
    const mapped = toProducerError(error, { operation });
    if (mapped instanceof ProducerFencedError) this.#fence(mapped);
    return mapped;
  }

  async #runTransaction<T>(fn: (tx: Transaction<K, V>) => Promise<T>): Promise<T> {
    await this.start();
    let tx: TransportTransaction;
    try {
      tx = await this.#producer.transaction();
    } catch (error) {
      throw this.#txError(error, 'Beginning a transaction');
    }
    const txProduce = tx.produce;
    const txOptions = this.#produceOptions(-1);
    const sink: Sink = (batches) => txProduce(batches, txOptions);
    const accumulator = this.#newAccumulator(sink, 1);
    // The coordinator aborts a transaction open longer than transactionTimeoutMs: retries inside
    // it (sendOffsets) stop at three quarters of that, leaving time to commit.
    const deadline = Date.now() + this.#options.transactionTimeoutMs * 0.75;
    const handle = new TransactionHandle(
      this.#pipeline,
      accumulator,
      tx,
      (e, op) => this.#txError(e, op),
      deadline,
    );
    try {
      let result: T;
      try {
        result = await fn(handle);
        handle.end();
        await accumulator.flush();
        if (handle.firstFailure !== undefined) throw handle.firstFailure;
      } catch (error) {
        handle.end();
        await accumulator.flush();
        await this.#abort(tx);
        throw error instanceof TransportError ? this.#txError(error, 'The transaction') : error;
      }
      try {
        await tx.commit();
      } catch (error) {
        const mapped = this.#txError(error, 'Committing a transaction');
        if (!(mapped instanceof ProducerFencedError)) await this.#abort(tx);
        throw mapped;
      }
      return result;
    } finally {
      accumulator.dispose();
    }
  }

  async #abort(tx: TransportTransaction): Promise<void> {
    if (this.#fenced !== undefined || !tx.isActive()) return;
    try {
      await tx.abort();
    } catch (error) {
      const mapped = this.#txError(error, 'Aborting a transaction');
      this.#logger.warn('Aborting a transaction failed', { error: mapped.message, code: mapped.code });
    }
  }

  close(): Promise<void> {
    this.#startFailed = false;
    return this.#lifecycle.close(async () => {
      await this.#transactions;
      await this.#pipeline.settled();
      await this.#accumulator.flush();
      this.#accumulator.dispose();
      this.#breaker?.shutdown();
      await Promise.allSettled([this.#producer.disconnect(), this.#disconnectAdmin()]);
      this.#logger.info('Producer closed');
    });
  }

  disconnect(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function noop(): void {}

/** A `ConfigError` for a record that is not an object with a string topic (when given), else undefined. */
function malformedRecord(record: unknown, field: string): ConfigError | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return new ConfigError(
      field,
      `expected a record ({ topic, key, value, headers }), got ${describeValue(record)}.`,
    );
  }
  const { topic, headers } = record as { topic?: unknown; headers?: unknown };
  if (topic !== undefined && (typeof topic !== 'string' || topic === '')) {
    return new ConfigError(`${field}.topic`, `expected a topic name, got ${describeValue(topic)}.`);
  }
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers))) {
    return new ConfigError(
      `${field}.headers`,
      `expected an object of header values, got ${describeValue(headers)}.`,
    );
  }
  return undefined;
}
