/**
 * The saga log, read by partition. A saga's states go to the log partition of its inbox
 * partition, so a coordinator that owns inbox partition `p` restores its sagas by reading log
 * partition `p` and nothing else, with a reader in no consumer group (`TransportPartitionReader`):
 * nothing is left on the brokers when a coordinator stops or dies.
 *
 * "Everything committed before now" is a barrier: a record written to the partition, then read.
 * The reads are read_committed, so a transaction still open below the barrier (a coordinator that
 * died mid-batch) is waited for until it commits or is aborted: the barrier is read only when
 * every state committed before it has been.
 *
 * Each state record carries its status, saga name and time in headers, so a reader that only
 * needs those (a restore passing over finished sagas, a `list()` filter) does not decode the state.
 * @module
 */

import { createHash, randomUUID } from 'node:crypto';
import { AbortedError, delay, type Logger } from '@cascade/core';
import type { KafkaConfig, Producer } from '@cascade/producer';
import { transportClientOf } from '@cascade/producer/internal';
import type {
  FetchedRecord,
  PartitionFetch,
  TransportAdmin,
  TransportPartitionReader,
} from '@cascade/transport';
import { isTransportError } from '@cascade/transport';
import { decodeState, recordFormat } from './codec.js';
import { SagaRestoreTimeoutError } from './errors.js';
import { type SagaState, type SagaStatus, sagaStatuses, terminalStatuses } from './state.js';

/** The key of barrier records (never a saga id: saga ids are refused with U+0000). */
export const barrierKey = '\u0000cascade-barrier';

/** The default of a restore's deadline (`restoreTimeoutMs`). */
export const defaultRestoreTimeoutMs = 10_000;

/** Header names of a state record. */
export const stateHeaders = {
  status: 'cascade-saga-status',
  saga: 'cascade-saga-name',
  updatedAt: 'cascade-saga-updated-at',
} as const;

/** The headers a state record is written with. */
export function headersOf(state: SagaState): Record<string, string> {
  return {
    [stateHeaders.status]: state.status,
    [stateHeaders.saga]: state.saga,
    [stateHeaders.updatedAt]: String(state.updatedAt),
  };
}

/** What a record of the log says without decoding its state. */
export interface LogEntry {
  readonly key: string;
  readonly offset: bigint;
  /** `null` for a tombstone. */
  readonly value: Buffer | null;
  /** From the headers, when the record has them. */
  readonly status: SagaStatus | undefined;
  readonly saga: string | undefined;
  readonly updatedAt: number | undefined;
}

const statuses: ReadonlySet<string> = new Set<SagaStatus>(sagaStatuses);

function headerText(record: FetchedRecord, name: string): string | undefined {
  const value = record.headers?.[name];
  const one = Array.isArray(value) ? value[0] : value;
  if (one === undefined) return undefined;
  return typeof one === 'string' ? one : one.toString('utf8');
}

/** The log entry of a fetched record; undefined for a barrier or a record without a key. */
export function entryOf(record: FetchedRecord): LogEntry | undefined {
  if (record.key === null) return undefined;
  const key = record.key.toString('utf8');
  if (key === barrierKey) return undefined;
  const status = headerText(record, stateHeaders.status);
  const updatedAt = Number(headerText(record, stateHeaders.updatedAt));
  return {
    key,
    offset: BigInt(record.offset),
    value: record.value,
    status: status !== undefined && statuses.has(status) ? (status as SagaStatus) : undefined,
    saga: headerText(record, stateHeaders.saga),
    updatedAt: Number.isSafeInteger(updatedAt) ? updatedAt : undefined,
  };
}

/**
 * A 48-bit fingerprint of a saga id, as a number: what a coordinator keeps of a finished saga
 * (a few dozen bytes each, whatever the saga held). Two ids may share one; a match is checked in
 * the log.
 */
export function fingerprintOf(sagaId: string): number {
  return createHash('sha256').update(sagaId).digest().readUIntBE(0, 6);
}

/** Reading options with a deadline. */
export interface ReadOptions {
  /** @default defaultRestoreTimeoutMs */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** A log partition's sagas as a coordinator holds them. */
export interface PartitionSagas {
  /** Sagas not finished, by id. */
  readonly live: Map<string, SagaState>;
  /** Finished sagas still in the log: fingerprint → `updatedAt` of the final state. */
  readonly finished: Map<number, number>;
}

/** The sagas of one log partition, as a restore found them. */
export interface RestoredPartition extends PartitionSagas {
  /** The barrier's offset: everything before it was read. */
  readonly end: bigint;
  /** How many records were read. */
  readonly records: number;
}

const fetchMaxBytes = 1024 * 1024;

/** The saga log, by partition. */
export class SagaLog {
  readonly #topic: string;
  readonly #producer: Producer<string, Buffer>;
  readonly #logger: Logger;
  readonly #reader: TransportPartitionReader;
  readonly #admin: TransportAdmin;
  #connected: Promise<void> | undefined;

  constructor(options: {
    readonly kafka: KafkaConfig;
    readonly topic: string;
    readonly producer: Producer<string, Buffer>;
    readonly logger: Logger;
  }) {
    this.#topic = options.topic;
    this.#producer = options.producer;
    this.#logger = options.logger;
    const client = transportClientOf(options.kafka);
    this.#reader = client.reader();
    this.#admin = client.admin();
  }

  /** Connects the reader (once; later calls share it). */
  start(): Promise<void> {
    this.#connected ??= Promise.all([this.#reader.connect(), this.#admin.connect()]).then(() => undefined);
    const connected = this.#connected;
    connected.catch(() => {
      if (this.#connected === connected) this.#connected = undefined;
    });
    return connected;
  }

  async stop(): Promise<void> {
    this.#connected = undefined;
    await Promise.all([
      this.#reader.disconnect().catch(() => undefined),
      this.#admin.disconnect().catch(() => undefined),
    ]);
  }

  /** Every partition's next offset (the high watermark), by partition. */
  async ends(): Promise<Map<number, bigint>> {
    await this.start();
    const offsets = await retriedBriefly(() => this.#admin.fetchTopicOffsets(this.#topic));
    return new Map(offsets.map((p) => [p.partition, BigInt(p.high)]));
  }

  /** The partitions of the log. */
  async partitions(): Promise<number[]> {
    await this.start();
    const [described] = await retriedBriefly(() => this.#admin.describeTopics([this.#topic]));
    return (described?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b);
  }

  /** Writes a barrier to `partition`; resolves with its offset. */
  async #barrier(partition: number): Promise<bigint> {
    const { offset } = await this.#producer.send({
      topic: this.#topic,
      partition,
      key: barrierKey,
      value: Buffer.from(JSON.stringify({ v: recordFormat, barrier: randomUUID() })),
    });
    return BigInt(offset);
  }

  /**
   * Reads `partition` from `from` (`'start'`: the log start) up to `until` (exclusive), calling
   * `visit` for each state record and tombstone in order (until it returns `false`). With
   * `waitMs` 0 it stops where a fetch finds nothing more (an open transaction), never waiting.
   * Resolves with where it stopped: `until`, the offset of the record `visit` refused, or the
   * first offset not read. Resolves once every record before
   * `until` that committed was read (waiting for open transactions below it).
   */
  async read(
    partition: number,
    from: bigint | 'start',
    until: bigint,
    visit: (entry: LogEntry) => unknown,
    signal?: AbortSignal,
    maxBytes = fetchMaxBytes,
    waitMs = 500,
  ): Promise<bigint> {
    await this.start();
    let next = from === 'start' ? 0n : from;
    while (next < until) {
      signal?.throwIfAborted();
      let fetched: PartitionFetch;
      try {
        [fetched] = (await this.#reader.fetch(
          {
            topic: this.#topic,
            partitions: [{ partition, offset: next.toString() }],
            maxWaitMs: waitMs,
            maxBytes,
            readCommitted: true,
          },
          signal,
        )) as [PartitionFetch];
      } catch (error) {
        if (isTransportError(error) && error.kafkaType === 'OFFSET_OUT_OF_RANGE' && from === 'start') {
          // The log starts later (records deleted below it): read from where it starts.
          const offsets = await retriedBriefly(() => this.#admin.fetchTopicOffsets(this.#topic));
          const low = BigInt(offsets.find((p) => p.partition === partition)?.low ?? '0');
          if (low > next) {
            next = low;
            continue;
          }
        }
        throw error;
      }
      for (const record of fetched.records) {
        const offset = BigInt(record.offset);
        if (offset >= until) return until;
        const entry = entryOf(record);
        if (entry !== undefined && visit(entry) === false) return offset;
      }
      const after = BigInt(fetched.nextOffset);
      // Not waiting (`waitMs` 0): what is not committed yet is not waited for either.
      if (waitMs === 0 && after === next) return next;
      next = after;
    }
    return next;
  }

  /**
   * One fetch of partitions from their offsets (waiting up to `maxWaitMs` for a record): per
   * partition, the state records and tombstones found and the offset to fetch next.
   */
  async poll(
    offsets: ReadonlyMap<number, bigint>,
    maxWaitMs: number,
    signal?: AbortSignal,
  ): Promise<Map<number, { readonly entries: LogEntry[]; readonly next: bigint }>> {
    await this.start();
    const fetched = await this.#reader.fetch(
      {
        topic: this.#topic,
        partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
        maxWaitMs,
        maxBytes: fetchMaxBytes,
        readCommitted: true,
      },
      signal,
    );
    const out = new Map<number, { readonly entries: LogEntry[]; readonly next: bigint }>();
    for (const partition of fetched) {
      const entries: LogEntry[] = [];
      for (const record of partition.records) {
        const entry = entryOf(record);
        if (entry !== undefined) entries.push(entry);
      }
      out.set(partition.partition, { entries, next: BigInt(partition.nextOffset) });
    }
    return out;
  }

  /**
   * Reads everything committed to `partition` before now: writes a barrier, then reads to it.
   * Never resolves with a partial read: at the deadline it rejects.
   * @throws {SagaRestoreTimeoutError} at the deadline (retriable: call again).
   * @throws {AbortedError} when `signal` aborts.
   */
  async catchUp(
    partition: number,
    visit: (entry: LogEntry) => void,
    options: ReadOptions & { readonly from?: bigint } = {},
  ): Promise<{ readonly end: bigint }> {
    const timeoutMs = options.timeoutMs ?? defaultRestoreTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
    try {
      const end = await raceSignal(this.#barrier(partition), signal);
      await this.read(partition, options.from ?? 'start', end, visit, signal);
      return { end };
    } catch (error) {
      if (options.signal?.aborted)
        throw new AbortedError(`read saga log partition ${partition}`, { cause: options.signal.reason });
      if (deadline.aborted) throw new SagaRestoreTimeoutError(this.#topic, partition, timeoutMs);
      throw error;
    }
  }

  /** The live sagas and the fingerprints of the finished ones of `partition`. */
  async restore(partition: number, options: ReadOptions = {}): Promise<RestoredPartition> {
    const sagas = { live: new Map<string, SagaState>(), finished: new Map<number, number>() };
    const { end, records } = await this.#applyUntilNow(partition, sagas, options);
    return { ...sagas, end, records };
  }

  /** Applies every record of `partition` (from `options.from`) up to a new barrier to `sagas`. */
  async #applyUntilNow(
    partition: number,
    sagas: PartitionSagas,
    options: ReadOptions & { readonly from?: bigint },
  ): Promise<{ readonly end: bigint; readonly records: number }> {
    let records = 0;
    const { end } = await this.catchUp(
      partition,
      (entry) => {
        records++;
        this.apply(sagas, entry, partition);
      },
      options,
    );
    return { end, records };
  }

  /**
   * Brings `sagas` (of `partition`, as they were when everything before `from` was read) up to
   * now: reads from `from` to a new barrier, applying each record. Resolves with the barrier's
   * offset and the records read.
   */
  async advance(
    partition: number,
    sagas: PartitionSagas,
    from: bigint,
    options: ReadOptions = {},
  ): Promise<{ readonly end: bigint; readonly records: number }> {
    return this.#applyUntilNow(partition, sagas, { ...options, from });
  }

  /** Writes a barrier to `partition`: every state committed before it precedes its offset. */
  mark(partition: number): Promise<bigint> {
    return this.#barrier(partition);
  }

  /**
   * Applies one record to a partition's sagas: a tombstone forgets the saga, a final state moves
   * it to the fingerprints of finished sagas (undecoded when its headers say it is final), any
   * other state replaces an older one (never a newer one: a record read again is no news).
   */
  apply(sagas: PartitionSagas, entry: LogEntry, partition: number): void {
    if (entry.value === null) {
      sagas.live.delete(entry.key);
      sagas.finished.delete(fingerprintOf(entry.key));
      return;
    }
    if (entry.status !== undefined && entry.updatedAt !== undefined && terminalStatuses.has(entry.status)) {
      sagas.live.delete(entry.key);
      sagas.finished.set(fingerprintOf(entry.key), entry.updatedAt);
      return;
    }
    const state = this.#decode(entry, partition);
    if (state === undefined) return;
    if (terminalStatuses.has(state.status)) {
      sagas.live.delete(entry.key);
      sagas.finished.set(fingerprintOf(entry.key), state.updatedAt);
      return;
    }
    const known = sagas.live.get(entry.key);
    if (known !== undefined && known.seq > state.seq) return;
    sagas.live.set(entry.key, state);
    sagas.finished.delete(fingerprintOf(entry.key));
  }

  /** The latest committed state of one saga of `partition`, reading the partition. */
  async lookup(partition: number, sagaId: string, options: ReadOptions = {}): Promise<SagaState | undefined> {
    let latest: LogEntry | undefined;
    await this.catchUp(
      partition,
      (entry) => {
        if (entry.key === sagaId) latest = entry;
      },
      options,
    );
    return latest === undefined ? undefined : this.#decode(latest, partition);
  }

  /** The state of the record at `offset` of `partition` (a state record a scan found). */
  async stateAt(partition: number, offset: bigint, signal?: AbortSignal): Promise<SagaState | undefined> {
    let found: LogEntry | undefined;
    await this.read(
      partition,
      offset,
      offset + 1n,
      (entry) => {
        if (entry.offset === offset) found = entry;
        return false;
      },
      signal,
      64 * 1024,
    );
    return found === undefined ? undefined : this.#decode(found, partition);
  }

  /** Decodes a state record's value; logs and skips one that cannot be read. */
  decode(entry: LogEntry, partition: number): SagaState | undefined {
    return this.#decode(entry, partition);
  }

  #decode(entry: LogEntry, partition: number): SagaState | undefined {
    if (entry.value === null) return undefined;
    try {
      return decodeState(entry.value);
    } catch (error) {
      this.#logger.error('Skipping a saga log record that cannot be read.', {
        sagaId: entry.key,
        partition,
        offset: entry.offset.toString(),
        error,
      });
      return undefined;
    }
  }
}

/**
 * Runs `fn` again (up to 10 times in about 3 s) while it fails with a retriable transport error:
 * a partition without a leader yet (a topic just created, a leader election) answers so briefly.
 */
async function retriedBriefly<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 10 || !isTransportError(error) || !error.retriable) throw error;
      await delay(Math.min(50 * attempt, 500));
    }
  }
}

/** Waits for `promise`, rejecting with the signal's reason when it aborts first. */
async function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    promise.catch(() => undefined);
  }
}
