/**
 * The path of one record from `send()` to the accumulator: interceptors, serdes, topic
 * metadata, then partitioning and buffering in call order. Shared by plain and transactional
 * sends.
 * @module
 */

import { ConfigError, describeValue, isCascadeError, type Logger } from '@cascade/core';
import type { Headers } from '@cascade/schema';
import { OutboundRecord } from '@cascade/transport';
import type { Accumulator, Receiver, WireRecord } from '../accumulator.js';
import { type ProducerError, ProducerSerializationError } from '../errors.js';
import {
  type AcknowledgementInfo,
  composeSend,
  runOnAcknowledgement,
  runOnSend,
  type SendChain,
} from '../interceptors.js';
import type { ResolvedProducerOptions } from '../options.js';
import type { PartitionerContext } from '../partitioners.js';
import type { OutgoingRecord, ProducerRecord, RecordMetadata } from '../types.js';
import type { Placement } from './accumulator-types.js';
import type { TopicInfo, TopicMetadata } from './metadata.js';

interface Prepared<K, V> {
  readonly record: OutgoingRecord<K, V>;
  readonly wire: WireRecord;
  readonly info: TopicInfo;
  readonly startedAt: number;
}

const recordOverheadBytes = 24;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

const noHeaders = { headers: Object.freeze({}) as WireRecord['headers'], bytes: 0 };

function toWireHeaders(headers: Headers): { headers: WireRecord['headers']; bytes: number } {
  let empty = true;
  for (const _ in headers) {
    empty = false;
    break;
  }
  if (empty) return noHeaders;
  const out: Record<string, Buffer | string | (Buffer | string)[]> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] = value;
    bytes += Buffer.byteLength(name);
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one !== 'string' && !Buffer.isBuffer(one)) {
        throw new ConfigError(
          `record.headers.${name}`,
          `expected a string, a Buffer or an array of them, got ${describeValue(one)}.`,
        );
      }
      bytes += Buffer.byteLength(one) + 2;
    }
  }
  return { headers: out, bytes };
}

/** Collects the outcomes of a batch's records: resolves once all are stored, rejects on the first failure. */
class BatchReceiver implements Receiver {
  readonly #results: RecordMetadata[];
  #remaining: number;
  #settled = false;
  readonly #resolve: (results: RecordMetadata[]) => void;
  readonly #reject: (error: unknown) => void;

  constructor(count: number, resolve: (results: RecordMetadata[]) => void, reject: (error: unknown) => void) {
    this.#results = new Array<RecordMetadata>(count);
    this.#remaining = count;
    this.#resolve = resolve;
    this.#reject = reject;
    if (count === 0) resolve(this.#results);
  }

  resolved(index: number, metadata: RecordMetadata): void {
    this.#results[index] = metadata;
    this.#remaining -= 1;
    if (this.#remaining === 0 && !this.#settled) {
      this.#settled = true;
      this.#resolve(this.#results);
    }
  }

  rejected(_index: number, error: ProducerError): void {
    this.#remaining -= 1;
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}

export class RecordPipeline<K, V> {
  readonly #options: ResolvedProducerOptions<K, V>;
  readonly #metadata: TopicMetadata;
  readonly #logger: Logger;
  #chain: Promise<void> = Promise.resolve();
  readonly #sendChain: SendChain<K, V> | undefined;
  #chained = 0;
  readonly #contexts = new WeakMap<Accumulator, Map<string, PartitionerContext>>();

  constructor(options: ResolvedProducerOptions<K, V>, metadata: TopicMetadata, logger: Logger) {
    this.#options = options;
    this.#metadata = metadata;
    this.#logger = logger;
    this.#sendChain = composeSend(options.interceptors, logger);
  }

  /** Resolves once every record sent so far has been handed to its accumulator (or failed). */
  settled(): Promise<void> {
    return this.#chain;
  }

  /** Sends one record through `accumulator`. Records are buffered in call order. */
  send(accumulator: Accumulator, input: ProducerRecord<K, V>, signal?: AbortSignal): Promise<RecordMetadata> {
    const chain = this.#sendChain;
    if (chain === undefined) return this.#send(accumulator, input, signal, false);
    const topic = input.topic ?? this.#options.defaultTopic;
    if (topic === undefined) return this.#send(accumulator, input, signal, false);
    const record = runOnSend(this.#options.interceptors, { ...input, topic }, this.#logger);
    return chain(record, (next) => this.#send(accumulator, next, signal, true));
  }

  #send(
    accumulator: Accumulator,
    input: ProducerRecord<K, V>,
    signal: AbortSignal | undefined,
    onSendDone: boolean,
  ): Promise<RecordMetadata> {
    const startedAt = this.#options.interceptors.length === 0 ? 0 : performance.now();
    let prepared: Prepared<K, V> | Promise<Prepared<K, V>>;
    try {
      prepared = this.#prepare(input, startedAt, signal, onSendDone);
    } catch (error) {
      return this.#fail(input, startedAt, error);
    }
    if (!isPromise(prepared) && this.#chained === 0) return this.#append(accumulator, prepared, signal);
    return this.#enqueue(accumulator, input, startedAt, prepared, signal);
  }

  /** A record that fails before it reaches the accumulator is acknowledged (with its error) too. */
  #fail(input: ProducerRecord<K, V>, startedAt: number, error: unknown): Promise<never> {
    if (this.#options.interceptors.length > 0) {
      const record = { ...input, topic: input.topic ?? this.#options.defaultTopic ?? '' };
      this.acknowledge(error instanceof Error ? error : new Error(String(error)), record, startedAt, 0);
    }
    return Promise.reject(error);
  }

  /** Appends once every record sent before it is in (records wait for async serdes or metadata in order). */
  #enqueue(
    accumulator: Accumulator,
    input: ProducerRecord<K, V>,
    startedAt: number,
    prepared: Prepared<K, V> | Promise<Prepared<K, V>>,
    signal: AbortSignal | undefined,
  ): Promise<RecordMetadata> {
    this.#chained += 1;
    let result!: Promise<RecordMetadata>;
    const step = this.#chain.then(async () => {
      try {
        const ready = await prepared;
        result = this.#append(accumulator, ready, signal);
      } catch (error) {
        result = this.#fail(input, startedAt, error);
      } finally {
        this.#chained -= 1;
      }
    });
    this.#chain = step;
    return step.then(() => result);
  }

  /**
   * Sends records through `accumulator`, buffered in call order like `send()` one by one;
   * resolves with their metadata in order, rejects with the first failure. Records with
   * synchronous serdes and cached metadata (the common case, without interceptors) take a
   * promise-free path: one receiver for the whole batch instead of a promise per record.
   */
  sendMany(
    accumulator: Accumulator,
    inputs: readonly ProducerRecord<K, V>[],
    signal?: AbortSignal,
  ): Promise<RecordMetadata[]> {
    if (this.#options.interceptors.length > 0) {
      return Promise.all(inputs.map((input) => this.send(accumulator, input, signal)));
    }
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const receiver = new BatchReceiver(inputs.length, resolve, reject);
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i] as ProducerRecord<K, V>;
        let prepared: Prepared<K, V> | Promise<Prepared<K, V>>;
        try {
          prepared = this.#prepare(input, 0, signal, false);
        } catch (error) {
          receiver.rejected(i, error as ProducerError);
          continue;
        }
        if (!isPromise(prepared) && this.#chained === 0) {
          accumulator.appendTo(prepared.wire, this.#placer(accumulator, prepared), receiver, i, signal);
          continue;
        }
        this.#enqueueTo(accumulator, input, prepared, receiver, i, signal);
      }
    });
  }

  #enqueueTo(
    accumulator: Accumulator,
    input: ProducerRecord<K, V>,
    prepared: Prepared<K, V> | Promise<Prepared<K, V>>,
    receiver: Receiver,
    index: number,
    signal: AbortSignal | undefined,
  ): void {
    this.#enqueue(accumulator, input, 0, prepared, signal).then(
      (metadata) => receiver.resolved(index, metadata),
      (error: unknown) => receiver.rejected(index, error as ProducerError),
    );
  }

  #prepare(
    input: ProducerRecord<K, V>,
    startedAt: number,
    signal: AbortSignal | undefined,
    onSendDone: boolean,
  ): Prepared<K, V> | Promise<Prepared<K, V>> {
    const topic = input.topic ?? this.#options.defaultTopic;
    if (topic === undefined) {
      throw new ConfigError(
        'record.topic',
        'the record names no topic and the producer has no defaultTopic.',
      );
    }
    const outgoing = input.topic === topic ? (input as OutgoingRecord<K, V>) : { ...input, topic };
    const record =
      this.#options.interceptors.length === 0 || onSendDone
        ? outgoing
        : runOnSend(this.#options.interceptors, { ...outgoing }, this.#logger);
    // Serdes may add headers (a schema id, say): give them a copy, never the caller's object.
    const headers: Headers = record.headers === undefined ? {} : { ...record.headers };
    const keyBytes = this.#serializeKey(record, headers);
    // A null value is a tombstone (a delete marker on compacted topics): it skips the serde.
    const valueBytes = record.value === null ? null : this.#serializeValue(record, headers);
    const info = this.#metadata.get(record.topic);
    if (!isPromise(keyBytes) && !isPromise(valueBytes) && info !== undefined) {
      return this.#finish(record, headers, keyBytes, valueBytes, info, startedAt);
    }
    return (async () => {
      const [key, value, topicInfo] = await Promise.all([
        keyBytes,
        valueBytes,
        info ?? this.#metadata.load(record.topic, signal),
      ]);
      return this.#finish(record, headers, key, value, topicInfo, startedAt);
    })();
  }

  #finish(
    record: OutgoingRecord<K, V>,
    headers: Headers,
    key: Buffer | null,
    value: Buffer | null,
    info: TopicInfo,
    startedAt: number,
  ): Prepared<K, V> {
    const wireHeaders = toWireHeaders(headers);
    const timestamp =
      record.timestamp === undefined
        ? Date.now()
        : record.timestamp instanceof Date
          ? record.timestamp.getTime()
          : record.timestamp;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new ConfigError(
        'record.timestamp',
        `must be epoch milliseconds (a non-negative integer) or a valid Date, got ${String(record.timestamp)}.`,
      );
    }
    const sizeBytes = (key?.length ?? 0) + (value?.length ?? 0) + wireHeaders.bytes + recordOverheadBytes;
    if (record.partition !== undefined) this.#checkPartition(record, info);
    return {
      record,
      wire: new OutboundRecord(key, value, wireHeaders.headers, timestamp, sizeBytes),
      info,
      startedAt,
    };
  }

  #checkPartition(record: OutgoingRecord<K, V>, info: TopicInfo): void {
    const p = record.partition;
    if (p === undefined || !Number.isInteger(p) || p < 0 || p >= info.partitionCount) {
      throw new ConfigError(
        'record.partition',
        `topic ${record.topic} has partitions 0..${info.partitionCount - 1}, got ${String(p)}.`,
      );
    }
  }

  #serializeKey(record: OutgoingRecord<K, V>, headers: Headers): Buffer | null | Promise<Buffer | null> {
    const key = record.key;
    if (key === undefined || key === null) return null;
    const serde = this.#options.key;
    if (serde === undefined) {
      if (Buffer.isBuffer(key)) return key;
      if (typeof key === 'string') return Buffer.from(key, 'utf8');
      throw new ProducerSerializationError(
        `The key of a record for topic ${record.topic} is neither a string nor a Buffer; give the producer a key serde.`,
        { topic: record.topic },
      );
    }
    try {
      const out = serde.serialize(key, { topic: record.topic, headers, isKey: true });
      return isPromise(out) ? out.catch((error: unknown) => this.#serdeFailed(error, record, 'key')) : out;
    } catch (error) {
      return this.#serdeFailed(error, record, 'key');
    }
  }

  #serializeValue(record: OutgoingRecord<K, V>, headers: Headers): Buffer | Promise<Buffer> {
    try {
      const out = this.#options.value.serialize(record.value, { topic: record.topic, headers, isKey: false });
      return isPromise(out) ? out.catch((error: unknown) => this.#serdeFailed(error, record, 'value')) : out;
    } catch (error) {
      return this.#serdeFailed(error, record, 'value');
    }
  }

  #serdeFailed(error: unknown, record: OutgoingRecord<K, V>, what: 'key' | 'value'): never {
    if (isCascadeError(error)) throw error;
    throw new ProducerSerializationError(
      `Serializing the ${what} of a record for topic ${record.topic} failed: ${(error as Error)?.message ?? String(error)}`,
      { topic: record.topic, cause: error },
    );
  }

  /** The partitioner's view of `accumulator`'s queues for `topic`, made once per topic. */
  #contextOf(accumulator: Accumulator, topic: string): PartitionerContext {
    let byTopic = this.#contexts.get(accumulator);
    if (byTopic === undefined) {
      byTopic = new Map();
      this.#contexts.set(accumulator, byTopic);
    }
    let context = byTopic.get(topic);
    if (context === undefined) {
      context = {
        queuedBytes: (partition) => accumulator.queuedBytes(topic, partition),
        batchBytes: this.#options.batchBytes,
      };
      byTopic.set(topic, context);
    }
    return context;
  }

  /** Says where a record goes: its explicit partition, or the partitioner's choice. */
  #placer(accumulator: Accumulator, prepared: Prepared<K, V>): () => Placement {
    return () => {
      const { record, wire, info } = prepared;
      const partition =
        record.partition ??
        this.#options.partitioner(
          {
            topic: record.topic,
            key: record.key,
            keyBytes: wire.key,
            value: record.value,
            sizeBytes: wire.sizeBytes,
          },
          info.partitionCount,
          this.#contextOf(accumulator, record.topic),
        );
      if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitionCount) {
        throw new ConfigError(
          'producer.partitioner',
          `returned ${String(partition)} for topic ${record.topic}, which has ${info.partitionCount} partitions.`,
        );
      }
      return { topic: record.topic, partition };
    };
  }

  #append(accumulator: Accumulator, prepared: Prepared<K, V>, signal?: AbortSignal): Promise<RecordMetadata> {
    const { record, wire } = prepared;
    const sent = accumulator.append(wire, this.#placer(accumulator, prepared), signal);
    if (this.#options.interceptors.length === 0) return sent;
    return sent.then(
      (metadata) => {
        this.acknowledge(metadata, record, prepared.startedAt, wire.sizeBytes);
        return metadata;
      },
      (error: unknown) => {
        this.acknowledge(error as ProducerError, record, prepared.startedAt, wire.sizeBytes);
        throw error;
      },
    );
  }

  /** Runs the acknowledgement interceptors. */
  acknowledge(
    outcome: RecordMetadata | Error,
    record: OutgoingRecord<K, V>,
    startedAt: number,
    sizeBytes: number,
  ): void {
    const info: AcknowledgementInfo = { latencyMs: performance.now() - startedAt, sizeBytes };
    runOnAcknowledgement(this.#options.interceptors, outcome, record, info, this.#logger);
  }
}
