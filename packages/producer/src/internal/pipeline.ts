/**
 * The path of one record from `send()` to the accumulator: interceptors, serdes, topic
 * metadata, then partitioning and buffering in call order. Shared by plain and transactional
 * sends.
 * @module
 */

import { ConfigError, isCascadeError, type Logger } from '@cascade/core';
import type { Headers } from '@cascade/schema';
import type { Accumulator, WireRecord } from '../accumulator.js';
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
    for (const one of Array.isArray(value) ? value : [value]) bytes += Buffer.byteLength(one) + 2;
  }
  return { headers: out, bytes };
}

export class RecordPipeline<K, V> {
  readonly #options: ResolvedProducerOptions<K, V>;
  readonly #metadata: TopicMetadata;
  readonly #logger: Logger;
  #chain: Promise<void> = Promise.resolve();
  readonly #sendChain: SendChain<K, V> | undefined;
  #chained = 0;

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
    // A record that fails before it reaches the accumulator is acknowledged (with its error) too.
    const fail = (error: unknown): Promise<never> => {
      if (this.#options.interceptors.length > 0) {
        const record = { ...input, topic: input.topic ?? this.#options.defaultTopic ?? '' };
        this.acknowledge(error instanceof Error ? error : new Error(String(error)), record, startedAt, 0);
      }
      return Promise.reject(error);
    };
    let prepared: Prepared<K, V> | Promise<Prepared<K, V>>;
    try {
      prepared = this.#prepare(input, startedAt, signal, onSendDone);
    } catch (error) {
      return fail(error);
    }
    if (!isPromise(prepared) && this.#chained === 0) return this.#append(accumulator, prepared, signal);
    this.#chained += 1;
    let result!: Promise<RecordMetadata>;
    const step = this.#chain.then(async () => {
      try {
        const ready = await prepared;
        result = this.#append(accumulator, ready, signal);
      } catch (error) {
        result = fail(error);
      } finally {
        this.#chained -= 1;
      }
    });
    this.#chain = step;
    return step.then(() => result);
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
    const valueBytes: Buffer | null | Promise<Buffer> =
      record.value === null
        ? null
        : this.#serialize(
            () => this.#options.value.serialize(record.value, { topic: record.topic, headers, isKey: false }),
            record,
            'value',
          );
    const info = this.#metadata.get(record.topic);
    const finish = (key: Buffer | null, value: Buffer | null, topicInfo: TopicInfo): Prepared<K, V> => {
      const wireHeaders = toWireHeaders(headers);
      const timestamp =
        record.timestamp === undefined
          ? Date.now()
          : record.timestamp instanceof Date
            ? record.timestamp.getTime()
            : record.timestamp;
      const sizeBytes = (key?.length ?? 0) + (value?.length ?? 0) + wireHeaders.bytes + recordOverheadBytes;
      if (record.partition !== undefined) this.#checkPartition(record, topicInfo);
      return {
        record,
        wire: { key, value, headers: wireHeaders.headers, timestamp, sizeBytes },
        info: topicInfo,
        startedAt,
      };
    };
    if (!isPromise(keyBytes) && !isPromise(valueBytes) && info !== undefined) {
      return finish(keyBytes, valueBytes, info);
    }
    return (async () => {
      const [key, value, topicInfo] = await Promise.all([
        keyBytes,
        valueBytes,
        info ?? this.#metadata.load(record.topic, signal),
      ]);
      return finish(key, value, topicInfo);
    })();
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
    return this.#serialize(
      () => serde.serialize(key, { topic: record.topic, headers, isKey: true }),
      record,
      'key',
    );
  }

  #serialize(
    run: () => Buffer | Promise<Buffer>,
    record: OutgoingRecord<K, V>,
    what: 'key' | 'value',
  ): Buffer | Promise<Buffer> {
    const fail = (error: unknown): never => {
      if (isCascadeError(error)) throw error;
      throw new ProducerSerializationError(
        `Serializing the ${what} of a record for topic ${record.topic} failed: ${(error as Error)?.message ?? String(error)}`,
        { topic: record.topic, cause: error },
      );
    };
    try {
      const out = run();
      return isPromise(out) ? out.catch(fail) : out;
    } catch (error) {
      return fail(error);
    }
  }

  #append(accumulator: Accumulator, prepared: Prepared<K, V>, signal?: AbortSignal): Promise<RecordMetadata> {
    const { record, wire, info } = prepared;
    const context: PartitionerContext = {
      queuedBytes: (partition) => accumulator.queuedBytes(record.topic, partition),
      batchBytes: this.#options.batchBytes,
    };
    const place = () => {
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
          context,
        );
      if (!Number.isInteger(partition) || partition < 0 || partition >= info.partitionCount) {
        throw new ConfigError(
          'producer.partitioner',
          `returned ${String(partition)} for topic ${record.topic}, which has ${info.partitionCount} partitions.`,
        );
      }
      return { topic: record.topic, partition };
    };
    const sent = accumulator.append(wire, place, signal);
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
