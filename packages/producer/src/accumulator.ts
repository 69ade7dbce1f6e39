/**
 * The record accumulator: records are queued per topic-partition and sent in batches, like the
 * Java client's `RecordAccumulator`.
 *
 * - A batch is ready when it holds `batchBytes`, when it is `lingerMs` old, or when a flush,
 *   a close or a full buffer asks for it. One request per broker carries one batch of every
 *   ready partition led by that broker; at most `maxInFlight` requests per broker are in flight.
 * - **One batch per partition is in flight at a time**, and a failed batch is retried before
 *   anything queued behind it, unchanged. Under idempotence that keeps each partition's sequence
 *   numbers gap-free and in order, which is what kafkajs' own producer gets wrong under
 *   concurrent sends (tulios/kafkajs#1005), and it keeps records in `send()` order per partition.
 * - Each record has its own promise: it resolves with its own offset, and a failed batch rejects
 *   exactly its own records. When a request with several batches fails with a non-retriable
 *   error, each batch is retried alone once, so one partition's error never fails another's
 *   records. A batch the sink reports stored ({@link PartialSinkFailure}: the client split the
 *   request across brokers and one part failed) is settled and never sent again.
 * - `bufferMemoryBytes` bounds the bytes queued and in flight. When full, `append()` waits in
 *   FIFO order (back-pressure) and fails after `maxBlockMs` with {@link BufferFullError}.
 * @module
 */

import { backoffDelayMs } from '@cascade/core';
import {
  DeliveryTimeoutError,
  NotEnoughReplicasError,
  type ProducerError,
  RecordTooLargeError,
} from './errors.js';
import {
  type AccumulatorOptions,
  type AccumulatorStats,
  type Batch,
  offsetsFrom,
  PartialSinkFailure,
  type PartitionQueue,
  type Pending,
  type Placement,
  type Receiver,
  type SinkBatch,
  type SinkResult,
  type WireRecord,
} from './internal/accumulator-types.js';
import { BufferPool } from './internal/buffer-pool.js';

export type {
  AccumulatorOptions,
  AccumulatorStats,
  Placement,
  Receiver,
  Sink,
  SinkBatch,
  SinkResult,
  WireRecord,
} from './internal/accumulator-types.js';
export { PartialSinkFailure } from './internal/accumulator-types.js';

import type { RecordMetadata } from './types.js';

/**
 * One `send()`: its promise's settle functions, and its entry in a batch, in one object (the
 * entry is its own receiver), instead of a receiver, two closures and an entry per record.
 */
class SingleRecord implements Pending, Receiver {
  readonly record: WireRecord;
  readonly receiver: Receiver = this;
  readonly index = 0;
  readonly #resolve: (metadata: RecordMetadata) => void;
  readonly #reject: (error: unknown) => void;

  constructor(
    record: WireRecord,
    resolve: (metadata: RecordMetadata) => void,
    reject: (error: unknown) => void,
  ) {
    this.record = record;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  resolved(_index: number, metadata: RecordMetadata): void {
    this.#resolve(metadata);
  }

  rejected(_index: number, error: ProducerError): void {
    this.#reject(error);
  }
}

export class Accumulator {
  readonly #options: AccumulatorOptions;
  readonly #now: () => number;
  readonly #queues = new Map<string, PartitionQueue>();
  readonly #keys = new Map<string, string[]>();
  readonly #inFlightByLeader = new Map<number, number>();
  readonly #pool: BufferPool;
  #records = 0;
  #lingerTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryTimerAt = Number.POSITIVE_INFINITY;
  #drainScheduled = false;
  #failedWith: ProducerError | undefined;
  #requests = 0;
  #batchesSent = 0;
  #retries = 0;

  constructor(options: AccumulatorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#pool = new BufferPool({
      capacityBytes: options.bufferMemoryBytes,
      maxBlockMs: options.maxBlockMs,
      now: this.#now,
      // A full buffer makes every batch ready, like the Java client does.
      onWait: () => this.#scheduleDrain(),
    });
  }

  /** Counters since creation. */
  get stats(): AccumulatorStats {
    return {
      requests: this.#requests,
      batches: this.#batchesSent,
      retries: this.#retries,
      bufferedBytes: this.#pool.usedBytes,
      bufferedRecords: this.#records,
    };
  }

  /** Bytes queued or in flight for a partition (what adaptive sticky partitioning weighs). */
  queuedBytes(topic: string, partition: number): number {
    return this.#queues.get(this.#keyOf(topic, partition))?.queuedBytes ?? 0;
  }

  /**
   * Queues a record. `place` is called once buffer space is granted, in call order, and says
   * where the record goes. Resolves with the record's metadata once the broker stored it.
   */
  append(record: WireRecord, place: () => Placement, signal?: AbortSignal): Promise<RecordMetadata> {
    let single!: SingleRecord;
    const sent = new Promise<RecordMetadata>((resolve, reject) => {
      single = new SingleRecord(record, resolve, reject);
    });
    this.#enter(single, place, signal);
    return sent;
  }

  /**
   * Like {@link append}, but tells `receiver` (with `index`) instead of returning a promise:
   * the promise-free path of `sendBatch()`. The receiver may be told synchronously (a record
   * refused at once).
   */
  appendTo(
    record: WireRecord,
    place: () => Placement,
    receiver: Receiver,
    index: number,
    signal?: AbortSignal,
  ): void {
    this.#enter({ record, receiver, index }, place, signal);
  }

  #enter(pending: Pending, place: () => Placement, signal: AbortSignal | undefined): void {
    const { record, receiver, index } = pending;
    if (this.#failedWith !== undefined) {
      receiver.rejected(index, this.#failedWith);
      return;
    }
    if (record.sizeBytes > this.#options.bufferMemoryBytes) {
      receiver.rejected(
        index,
        new RecordTooLargeError(
          `A record of ${record.sizeBytes} bytes is larger than bufferMemoryBytes (${this.#options.bufferMemoryBytes}). Make it smaller or raise bufferMemoryBytes.`,
        ),
      );
      return;
    }
    // The common case, room in the buffer and nobody waiting: no closures.
    if (this.#pool.tryReserve(record.sizeBytes)) {
      this.#placeAndAdd(pending, place);
      return;
    }
    this.#pool.reserve(
      record.sizeBytes,
      () => this.#placeAndAdd(pending, place),
      (error) => receiver.rejected(index, error as ProducerError),
      signal,
    );
  }

  #placeAndAdd(pending: Pending, place: () => Placement): void {
    const record = pending.record;
    let placement: Placement;
    try {
      placement = place();
    } catch (error) {
      this.#pool.release(record.sizeBytes);
      pending.receiver.rejected(pending.index, this.#options.toError(error, { topic: '?', partition: -1 }));
      return;
    }
    record.partition = placement.partition;
    this.#add(placement, pending);
  }

  #add(placement: Placement, pending: Pending): void {
    const { topic, partition } = placement;
    const key = this.#keyOf(topic, partition);
    let queue = this.#queues.get(key);
    if (queue === undefined) {
      queue = { topic, partition, batches: [], inFlight: false, queuedBytes: 0 };
      this.#queues.set(key, queue);
    }
    let batch = queue.batches[queue.batches.length - 1];
    const size = pending.record.sizeBytes;
    if (
      batch === undefined ||
      batch.closed ||
      batch.attempts > 0 ||
      (batch.bytes + size > this.#options.batchBytes && batch.pending.length > 0)
    ) {
      if (batch !== undefined) batch.closed = true;
      batch = this.#newBatch(topic, partition);
      queue.batches.push(batch);
    }
    batch.pending.push(pending);
    batch.bytes += size;
    queue.queuedBytes += size;
    this.#records += 1;
    if (batch.bytes >= this.#options.batchBytes) {
      batch.closed = true;
      this.#scheduleDrain();
    } else if (this.#options.lingerMs === 0) {
      this.#scheduleDrain();
    } else {
      this.#armLinger();
    }
  }

  /** The queue key of a partition, cached: no string is built per record. */
  #keyOf(topic: string, partition: number): string {
    let keys = this.#keys.get(topic);
    if (keys === undefined) {
      keys = [];
      this.#keys.set(topic, keys);
    }
    let key = keys[partition];
    if (key === undefined) {
      key = `${topic}\u0000${partition}`;
      keys[partition] = key;
    }
    return key;
  }

  #newBatch(topic: string, partition: number): Batch {
    let markDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      markDone = resolve;
    });
    return {
      topic,
      partition,
      pending: [],
      bytes: 0,
      createdAt: this.#now(),
      closed: false,
      forced: false,
      isolate: false,
      attempts: 0,
      retryAt: 0,
      done,
      markDone,
    };
  }

  #armLinger(delayMs = this.#options.lingerMs): void {
    if (this.#lingerTimer !== undefined) return;
    this.#lingerTimer = setTimeout(
      () => {
        this.#lingerTimer = undefined;
        this.#drain();
      },
      Math.max(0, delayMs),
    );
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => {
      this.#drainScheduled = false;
      this.#drain();
    });
  }

  #isReady(batch: Batch, now: number): boolean {
    if (batch.retryAt > now) return false;
    return (
      batch.closed ||
      batch.forced ||
      batch.attempts > 0 ||
      this.#pool.waiting > 0 ||
      now - batch.createdAt >= this.#options.lingerMs
    );
  }

  #drain(): void {
    const now = this.#now();
    const byLeader = new Map<number, Batch[]>();
    let lingerUntil = Number.POSITIVE_INFINITY;
    let nextRetry = Number.POSITIVE_INFINITY;
    for (const queue of this.#queues.values()) {
      const head = queue.batches[0];
      if (head === undefined || queue.inFlight) continue;
      if (!this.#isReady(head, now)) {
        if (head.retryAt > now) nextRetry = Math.min(nextRetry, head.retryAt);
        else lingerUntil = Math.min(lingerUntil, head.createdAt + this.#options.lingerMs);
        continue;
      }
      const leader = this.#options.leaderOf(queue.topic, queue.partition) ?? -1;
      const list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, [head]);
      else list.push(head);
    }
    for (const [leader, batches] of byLeader) {
      const alone = batches.filter((b) => b.isolate);
      const together = batches.filter((b) => !b.isolate);
      const requests = [...alone.map((b) => [b]), ...(together.length > 0 ? [together] : [])];
      for (const request of requests) {
        const inFlight = this.#inFlightByLeader.get(leader) ?? 0;
        if (inFlight >= this.#options.maxInFlight) break;
        this.#send(leader, request);
      }
    }
    if (lingerUntil !== Number.POSITIVE_INFINITY) this.#armLinger(lingerUntil - now);
    if (nextRetry !== Number.POSITIVE_INFINITY) this.#armRetry(nextRetry);
  }

  #armRetry(at: number): void {
    if (this.#retryTimer !== undefined && this.#retryTimerAt <= at) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimerAt = at;
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.#retryTimerAt = Number.POSITIVE_INFINITY;
        this.#drain();
      },
      Math.max(0, at - this.#now()),
    );
  }

  #queueOf(batch: Batch): PartitionQueue | undefined {
    return this.#queues.get(this.#keyOf(batch.topic, batch.partition));
  }

  #send(leader: number, batches: Batch[]): void {
    for (const batch of batches) {
      batch.closed = true;
      const queue = this.#queueOf(batch);
      if (queue) queue.inFlight = true;
    }
    this.#inFlightByLeader.set(leader, (this.#inFlightByLeader.get(leader) ?? 0) + 1);
    this.#requests += 1;
    this.#batchesSent += batches.length;
    const sinkBatches: SinkBatch[] = batches.map((b) => ({
      topic: b.topic,
      partition: b.partition,
      records: b.pending.map((p) => p.record),
    }));
    let call: Promise<readonly SinkResult[]>;
    try {
      call = this.#options.sink(sinkBatches);
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (results) => this.#onSuccess(leader, batches, results),
      (error: unknown) => this.#onFailure(leader, batches, sinkBatches, error),
    );
  }

  #finishRequest(leader: number, batches: readonly Batch[]): void {
    this.#inFlightByLeader.set(leader, Math.max(0, (this.#inFlightByLeader.get(leader) ?? 1) - 1));
    for (const batch of batches) {
      const queue = this.#queueOf(batch);
      if (queue) queue.inFlight = false;
    }
  }

  #complete(batch: Batch): void {
    const queue = this.#queueOf(batch);
    if (queue !== undefined) {
      const index = queue.batches.indexOf(batch);
      if (index >= 0) queue.batches.splice(index, 1);
      queue.queuedBytes -= batch.bytes;
      if (queue.batches.length === 0 && !queue.inFlight) {
        this.#queues.delete(this.#keyOf(batch.topic, batch.partition));
      }
    }
    this.#records -= batch.pending.length;
    this.#pool.release(batch.bytes);
    batch.markDone();
  }

  #onSuccess(leader: number, batches: readonly Batch[], results: readonly SinkResult[]): void {
    this.#finishRequest(leader, batches);
    for (const batch of batches) this.#resolveBatch(batch, results);
    this.#drain();
  }

  /** Settles a stored batch: every record resolves with its offset. */
  #resolveBatch(batch: Batch, results: readonly SinkResult[]): void {
    const result = results.find((r) => r.topic === batch.topic && r.partition === batch.partition);
    const offsetAt = offsetsFrom(result?.baseOffset ?? '-1', batch.pending.length);
    const appendTime = result?.logAppendTime ?? '-1';
    const logAppendTime = appendTime === '-1' ? undefined : Number(appendTime);
    this.#complete(batch);
    for (let i = 0; i < batch.pending.length; i++) {
      const pending = batch.pending[i];
      if (pending === undefined) continue;
      pending.receiver.resolved(pending.index, {
        topic: batch.topic,
        partition: batch.partition,
        offset: offsetAt(i),
        timestamp: logAppendTime ?? pending.record.timestamp,
      });
    }
  }

  #onFailure(
    leader: number,
    sent: readonly Batch[],
    sinkBatches: readonly SinkBatch[],
    failure: unknown,
  ): void {
    this.#finishRequest(leader, sent);
    let batches = sent;
    let raw = failure;
    if (failure instanceof PartialSinkFailure) {
      // The brokers stored these: settle them, and never send them again.
      const stored = failure.acknowledged;
      const isStored = (b: Batch) => stored.some((r) => r.topic === b.topic && r.partition === b.partition);
      for (const batch of sent) if (isStored(batch)) this.#resolveBatch(batch, stored);
      batches = sent.filter((b) => !isStored(b));
      raw = failure.error;
      if (batches.length === 0) {
        this.#drain();
        return;
      }
    }
    const first = batches[0];
    const error = this.#options.toError(raw, {
      topic: first?.topic ?? '?',
      partition: first?.partition ?? -1,
    });
    this.#options.onRequestError?.(
      error,
      batches.length === sent.length
        ? sinkBatches
        : sinkBatches.filter((_, i) => batches.includes(sent[i] as Batch)),
    );
    const retriable = this.#options.shouldRetry(error);
    const now = this.#now();
    for (const batch of batches) {
      if (batches.length > 1 && !retriable) {
        // Find out which batch the error belongs to: send each alone, at once.
        batch.isolate = true;
        continue;
      }
      const perBatch = batches.length > 1 ? this.#options.toError(raw, batch) : error;
      if (perBatch instanceof RecordTooLargeError && batch.pending.length > 1) {
        // The topic takes smaller batches than batchBytes: split this one and send the halves.
        this.#split(batch);
        continue;
      }
      const expired = now - batch.createdAt >= this.#options.deliveryTimeoutMs;
      if (retriable && !expired && this.#failedWith === undefined) {
        batch.attempts += 1;
        batch.retryAt = now + backoffDelayMs(this.#options.retryBackoff, batch.attempts);
        this.#retries += 1;
        this.#options.logger.debug('Retrying a failed batch', {
          topic: batch.topic,
          partition: batch.partition,
          records: batch.pending.length,
          attempt: batch.attempts,
          error: perBatch.message,
        });
        continue;
      }
      const final = retriable && expired ? this.#expired(batch, perBatch) : perBatch;
      this.#complete(batch);
      for (const pending of batch.pending) pending.receiver.rejected(pending.index, final);
    }
    this.#drain();
  }

  /**
   * The error of a batch whose delivery timeout passed: {@link NotEnoughReplicasError} when the
   * partition lacked in-sync replicas (its own code says why), else {@link DeliveryTimeoutError}.
   */
  #expired(batch: Batch, last: ProducerError): ProducerError {
    const context = { topic: batch.topic, partition: batch.partition, cause: last };
    const what = `${batch.pending.length} record(s) for topic ${batch.topic} partition ${batch.partition} were not acknowledged within deliveryTimeoutMs (${this.#options.deliveryTimeoutMs} ms)`;
    if (last instanceof NotEnoughReplicasError) {
      return new NotEnoughReplicasError(
        `${what}: the partition has fewer in-sync replicas than its min.insync.replicas (${last.kafkaType ?? 'NOT_ENOUGH_REPLICAS'}). Send again once the brokers are back, or raise deliveryTimeoutMs to wait longer.`,
        { ...context, ...(last.kafkaType === undefined ? {} : { kafkaType: last.kafkaType }) },
      );
    }
    return new DeliveryTimeoutError(`${what}; last error: ${last.message}`, context);
  }

  /** Replaces a failed batch at the head of its queue by its two halves, in order. */
  #split(batch: Batch): void {
    const queue = this.#queueOf(batch);
    const index = queue?.batches.indexOf(batch) ?? -1;
    if (queue === undefined || index < 0) return;
    const middle = Math.ceil(batch.pending.length / 2);
    const halves = [batch.pending.slice(0, middle), batch.pending.slice(middle)].map((pending) => {
      const half = this.#newBatch(batch.topic, batch.partition);
      half.pending.push(...pending);
      half.bytes = pending.reduce((sum, p) => sum + p.record.sizeBytes, 0);
      half.closed = true;
      half.isolate = true;
      return half;
    });
    queue.batches.splice(index, 1, ...halves);
    // Whoever flushes waits on the old batch: it is done once both halves are.
    Promise.all(halves.map((h) => h.done)).then(batch.markDone, batch.markDone);
    this.#options.logger.debug('Split a batch the broker found too large', {
      topic: batch.topic,
      partition: batch.partition,
      records: batch.pending.length,
    });
  }

  /** Makes every batch queued now ready at once (no linger), without waiting for it. */
  sendNow(): void {
    for (const queue of this.#queues.values()) for (const batch of queue.batches) batch.forced = true;
    this.#drain();
  }

  /**
   * Sends everything queued now, and resolves once every record queued (or waiting for buffer
   * space) at the time of the call has settled, whether stored or failed.
   */
  async flush(): Promise<void> {
    const waiting = this.#pool.waitingNow();
    await this.#flushQueued(waiting);
    // Records that waited for buffer space at the time of the call are queued now: flush them too.
    if (waiting.length > 0) await this.#flushQueued([]);
  }

  async #flushQueued(extra: Promise<void>[]): Promise<void> {
    const waits = [...extra];
    for (const queue of this.#queues.values()) {
      for (const batch of queue.batches) {
        batch.forced = true;
        waits.push(batch.done);
      }
    }
    if (waits.length === 0) return;
    this.#drain();
    await Promise.all(waits);
  }

  /**
   * Fails every queued and waiting record with `error` and refuses new ones (a fenced producer).
   * Batches in flight settle on their own.
   */
  failAll(error: ProducerError): void {
    this.#failedWith = error;
    this.#pool.failAll(error);
    for (const queue of [...this.#queues.values()]) {
      const keep = queue.inFlight ? queue.batches.slice(0, 1) : [];
      for (const batch of [...queue.batches]) {
        if (keep.includes(batch)) continue;
        this.#complete(batch);
        for (const pending of batch.pending) pending.receiver.rejected(pending.index, error);
      }
    }
  }

  /** Stops the timers. Call after {@link flush}. */
  dispose(): void {
    this.#pool.dispose();
    clearTimeout(this.#lingerTimer);
    clearTimeout(this.#retryTimer);
    this.#lingerTimer = undefined;
    this.#retryTimer = undefined;
  }
}
