import { isCascadeError, noopLogger, resolveRetryPolicy } from '@cascade/core';
import { toTransportError } from '@cascade/kafkajs/internal';
import { describe, expect, it } from 'vitest';
import {
  Accumulator,
  type AccumulatorOptions,
  PartialSinkFailure,
  type SinkBatch,
  type SinkResult,
  type WireRecord,
} from './accumulator.js';
import {
  BufferFullError,
  DeliveryTimeoutError,
  KafkaConnectionError,
  KafkaFatalError,
  type ProducerError,
  RecordTooLargeError,
} from './errors.js';
import { toProducerError as mapTransportError } from './internal/error-mapping.js';

/** What the producer gets from the kafkajs transport: its errors classified, then mapped. */
const toProducerError: typeof mapTransportError = (error, site) =>
  mapTransportError(isCascadeError(error) ? error : toTransportError(error), site);

const wire = (value: string, sizeBytes = 100): WireRecord => ({
  key: null,
  value: Buffer.from(value),
  headers: {},
  timestamp: 1,
  sizeBytes,
});

/** A fake broker: stores per partition, answers with base offsets, can be told to fail. */
function fakeBroker() {
  const log = new Map<string, string[]>();
  const requests: SinkBatch[][] = [];
  let failNext: Array<(batches: readonly SinkBatch[]) => Error | undefined> = [];
  let hold: Promise<void> | undefined;
  const sink = async (batches: readonly SinkBatch[]): Promise<SinkResult[]> => {
    requests.push([...batches]);
    if (hold) await hold;
    const fail = failNext.shift()?.(batches);
    if (fail) throw fail;
    return batches.map((b) => {
      const key = `${b.topic}/${b.partition}`;
      const stored = log.get(key) ?? [];
      const baseOffset = String(stored.length);
      stored.push(...b.records.map((r) => r.value?.toString() ?? ''));
      log.set(key, stored);
      return { topic: b.topic, partition: b.partition, baseOffset, logAppendTime: '-1' };
    });
  };
  return {
    sink,
    log,
    requests,
    failWith: (fn: (batches: readonly SinkBatch[]) => Error | undefined) => failNext.push(fn),
    reset: () => {
      failNext = [];
    },
    holdUntil: (p: Promise<void> | undefined) => {
      hold = p;
    },
  };
}

function accumulator(overrides: Partial<AccumulatorOptions> & Pick<AccumulatorOptions, 'sink'>): Accumulator {
  return new Accumulator({
    lingerMs: 0,
    batchBytes: 1_000,
    bufferMemoryBytes: 1_000_000,
    maxBlockMs: 1_000,
    maxInFlight: 5,
    deliveryTimeoutMs: 10_000,
    retryBackoff: resolveRetryPolicy('retry', { initialIntervalMs: 1, maximumIntervalMs: 5 }),
    leaderOf: () => 0,
    toError: (error, batch) => toProducerError(error, { operation: 'Producing', ...batch }),
    shouldRetry: (error: ProducerError) => error.retriable,
    logger: noopLogger,
    ...overrides,
  });
}

const at = (partition: number) => () => ({ topic: 't', partition });

describe('Accumulator', () => {
  it('batches records sent in one tick into one request, resolving each with its own offset', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, batchBytes: 1_000_000 });
    const sent = await Promise.all(
      Array.from({ length: 100 }, (_, i) => acc.append(wire(`r${i}`), at(i % 2))),
    );
    expect(broker.requests).toHaveLength(1);
    expect(sent.filter((m) => m.partition === 0).map((m) => m.offset)).toEqual(
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
    expect(broker.log.get('t/1')).toEqual(Array.from({ length: 50 }, (_, i) => `r${i * 2 + 1}`));
  });

  it('closes a batch at batchBytes and keeps one batch per partition in flight, in order', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, batchBytes: 1_000 });
    await Promise.all(Array.from({ length: 35 }, (_, i) => acc.append(wire(`r${i}`), at(0))));
    // 100-byte records, 1,000-byte batches: 4 batches, sent one after another.
    expect(broker.requests.map((r) => r.map((b) => b.records.length))).toEqual([[10], [10], [10], [5]]);
    expect(broker.log.get('t/0')).toEqual(Array.from({ length: 35 }, (_, i) => `r${i}`));
  });

  it('retries a failed batch before anything queued behind it, so order holds per partition', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, batchBytes: 500 });
    const transient = Object.assign(new Error('leader moved'), {
      name: 'KafkaJSProtocolError',
      type: 'NOT_LEADER_FOR_PARTITION',
      retriable: true,
    });
    broker.failWith(() => transient);
    broker.failWith(() => transient);
    await Promise.all(Array.from({ length: 20 }, (_, i) => acc.append(wire(`r${i}`), at(0))));
    expect(broker.log.get('t/0')).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`));
    expect(acc.stats.retries).toBe(2);
  });

  it('rejects exactly the records of the batch a non-retriable error belongs to', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, batchBytes: 1_000_000 });
    const invalid = Object.assign(new Error('invalid record'), {
      name: 'KafkaJSProtocolError',
      type: 'INVALID_RECORD',
      retriable: false,
    });
    // Fails any request that holds partition 1.
    for (let i = 0; i < 3; i++)
      broker.failWith((batches) => (batches.some((b) => b.partition === 1) ? invalid : undefined));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => acc.append(wire(`r${i}`), at(i % 3))),
    );
    const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [i] : []));
    expect(rejected).toEqual(Array.from({ length: 10 }, (_, i) => i * 3 + 1));
    for (const i of rejected) {
      const reason = (outcomes[i] as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(KafkaFatalError);
      expect(reason).toMatchObject({
        code: 'CASCADE_PRODUCER_FATAL',
        topic: 't',
        partition: 1,
        kafkaType: 'INVALID_RECORD',
      });
    }
    expect(broker.log.get('t/0')).toHaveLength(10);
    expect(broker.log.get('t/2')).toHaveLength(10);
  });

  it('settles the batches a partly failed request stored and never sends them again', async () => {
    const log = new Map<number, string[]>();
    const requests: number[][] = [];
    let failures = 2;
    const notEnough = Object.assign(new Error('not enough replicas'), {
      name: 'KafkaJSProtocolError',
      type: 'NOT_ENOUGH_REPLICAS',
      retriable: true,
    });
    // The "cluster" stores every partition's batch, but partition 1 fails twice first: the
    // request as a whole rejects with what the other partitions stored.
    const sink = async (batches: readonly SinkBatch[]): Promise<SinkResult[]> => {
      requests.push(batches.map((b) => b.partition));
      const results: SinkResult[] = [];
      const failing = failures > 0 && batches.some((b) => b.partition === 1);
      for (const b of batches) {
        if (failing && b.partition === 1) continue;
        const stored = log.get(b.partition) ?? [];
        results.push({
          topic: b.topic,
          partition: b.partition,
          baseOffset: String(stored.length),
          logAppendTime: '-1',
        });
        stored.push(...b.records.map((r) => r.value?.toString() ?? ''));
        log.set(b.partition, stored);
      }
      if (failing) {
        failures -= 1;
        throw new PartialSinkFailure(results, notEnough);
      }
      return results;
    };
    // lingerMs 0: the three appends of this tick go out in one request. With a linger, a
    // millisecond boundary between two appends made one batch ready a millisecond before the
    // other, and the drain at the first one's deadline sent them in two requests.
    const acc = accumulator({ sink, batchBytes: 1_000_000, lingerMs: 0 });
    const sent = await Promise.all([0, 1, 2].map((p) => acc.append(wire(`p${p}`), at(p))));
    expect([...log.entries()].sort()).toEqual([
      [0, ['p0']],
      [1, ['p1']],
      [2, ['p2']],
    ]);
    expect(sent.map((m) => m.offset)).toEqual(['0', '0', '0']);
    expect(requests).toEqual([[0, 1, 2], [1], [1]]);
    expect(acc.stats.retries).toBe(2);
  });

  it('isolates only the unstored batches of a partly failed request with a non-retriable error', async () => {
    const log = new Map<number, string[]>();
    const tooLarge = Object.assign(new Error('too large'), {
      name: 'KafkaJSProtocolError',
      type: 'MESSAGE_TOO_LARGE',
      retriable: false,
    });
    const sink = async (batches: readonly SinkBatch[]): Promise<SinkResult[]> => {
      const results: SinkResult[] = [];
      for (const b of batches) {
        if (b.partition === 1) continue;
        const stored = log.get(b.partition) ?? [];
        results.push({
          topic: b.topic,
          partition: b.partition,
          baseOffset: String(stored.length),
          logAppendTime: '-1',
        });
        stored.push(...b.records.map((r) => r.value?.toString() ?? ''));
        log.set(b.partition, stored);
      }
      if (batches.some((b) => b.partition === 1)) throw new PartialSinkFailure(results, tooLarge);
      return results;
    };
    // lingerMs 0: the three appends of this tick go out in one request. With a linger, a
    // millisecond boundary between two appends made one batch ready a millisecond before the
    // other, and the drain at the first one's deadline sent them in two requests.
    const acc = accumulator({ sink, batchBytes: 1_000_000, lingerMs: 0 });
    const outcomes = await Promise.allSettled([0, 1, 2].map((p) => acc.append(wire(`p${p}`), at(p))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (outcomes[1] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(RecordTooLargeError);
    expect(reason.code).toBe('CASCADE_PRODUCER_RECORD_TOO_LARGE');
    expect(log.get(0)).toEqual(['p0']);
    expect(log.get(2)).toEqual(['p2']);
  });

  it('splits a batch the broker finds too large and sends the halves, failing only a single record that is too large', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, batchBytes: 1_000_000 });
    const tooLarge = Object.assign(new Error('too large'), {
      name: 'KafkaJSProtocolError',
      type: 'MESSAGE_TOO_LARGE',
      retriable: false,
    });
    // The "topic" takes at most 3 records per batch, and no record named 'huge'.
    for (let i = 0; i < 20; i++) {
      broker.failWith((batches) =>
        batches.some((b) => b.records.length > 3 || b.records.some((r) => r.value?.toString() === 'huge'))
          ? tooLarge
          : undefined,
      );
    }
    const names = ['r0', 'r1', 'r2', 'r3', 'huge', 'r5', 'r6', 'r7', 'r8', 'r9'];
    const outcomes = await Promise.allSettled(names.map((n) => acc.append(wire(n), at(0))));
    expect(outcomes.map((o) => o.status)).toEqual(
      names.map((n) => (n === 'huge' ? 'rejected' : 'fulfilled')),
    );
    expect(broker.log.get('t/0')).toEqual(names.filter((n) => n !== 'huge'));
  });

  it('fails records with DeliveryTimeoutError once deliveryTimeoutMs has passed', async () => {
    const broker = fakeBroker();
    // Each failed attempt takes 300 ms of (simulated) time.
    let skew = 0;
    const acc = accumulator({ sink: broker.sink, deliveryTimeoutMs: 1_000, now: () => Date.now() + skew });
    for (let i = 0; i < 100; i++) {
      broker.failWith(() => {
        skew += 300;
        return Object.assign(new Error('connect ECONNREFUSED'), {
          name: 'KafkaJSConnectionError',
          retriable: true,
        });
      });
    }
    const error = await acc.append(wire('r'), at(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    expect((error as DeliveryTimeoutError).cause).toBeInstanceOf(KafkaConnectionError);
    expect(broker.requests).toHaveLength(4);
  });

  it('makes send() wait when bufferMemoryBytes is full and fail after maxBlockMs with BufferFullError', async () => {
    const broker = fakeBroker();
    let release!: () => void;
    broker.holdUntil(new Promise<void>((resolve) => (release = resolve)));
    const acc = accumulator({ sink: broker.sink, bufferMemoryBytes: 1_000, maxBlockMs: 50 });
    const first = Array.from({ length: 10 }, (_, i) => acc.append(wire(`r${i}`), at(0)));
    const blocked = acc.append(wire('over'), at(0));
    const error = await blocked.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BufferFullError);
    expect(error).toMatchObject({ code: 'CASCADE_PRODUCER_BUFFER_FULL', retriable: true });
    expect((error as BufferFullError).waitedMs).toBeGreaterThanOrEqual(49);
    const waiting = acc.append(wire('after'), at(0));
    release();
    broker.holdUntil(undefined);
    await Promise.all([...first, waiting]);
    expect(broker.log.get('t/0')).toEqual([...Array.from({ length: 10 }, (_, i) => `r${i}`), 'after']);
  });

  it('stops a send waiting for buffer space when its AbortSignal aborts', async () => {
    const broker = fakeBroker();
    let release!: () => void;
    broker.holdUntil(new Promise<void>((resolve) => (release = resolve)));
    const acc = accumulator({ sink: broker.sink, bufferMemoryBytes: 1_000, maxBlockMs: 60_000 });
    const first = Array.from({ length: 10 }, (_, i) => acc.append(wire(`r${i}`), at(0)));
    const controller = new AbortController();
    const waiting = acc.append(wire('waiting'), at(0), controller.signal);
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toMatchObject({ code: 'CASCADE_ABORTED' });
    release();
    broker.holdUntil(undefined);
    await Promise.all(first);
    expect(broker.log.get('t/0')).toHaveLength(10);
    acc.dispose();
  });

  it('makes flush() wait for the sends that were waiting for buffer space when it was called', async () => {
    const broker = fakeBroker();
    let release!: () => void;
    broker.holdUntil(new Promise<void>((resolve) => (release = resolve)));
    const acc = accumulator({ sink: broker.sink, bufferMemoryBytes: 1_000, maxBlockMs: 60_000 });
    const first = Array.from({ length: 10 }, (_, i) => acc.append(wire(`r${i}`), at(0)));
    const waiting = Array.from({ length: 5 }, (_, i) => acc.append(wire(`w${i}`), at(0)));
    let flushed = false;
    const flush = acc.flush().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    release();
    broker.holdUntil(undefined);
    await flush;
    expect(broker.log.get('t/0')).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `r${i}`),
      ...Array.from({ length: 5 }, (_, i) => `w${i}`),
    ]);
    expect((await Promise.all([...first, ...waiting])).map((m) => m.offset)).toEqual(
      Array.from({ length: 15 }, (_, i) => String(i)),
    );
    acc.dispose();
  });

  it('rejects a record larger than the whole buffer at once', async () => {
    const acc = accumulator({ sink: fakeBroker().sink, bufferMemoryBytes: 1_000 });
    await expect(acc.append(wire('big', 5_000), at(0))).rejects.toBeInstanceOf(RecordTooLargeError);
  });

  it('waits lingerMs before sending a batch that is not full, and flush() sends it at once', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, lingerMs: 60_000 });
    const sent = acc.append(wire('r'), at(0));
    await new Promise((resolve) => setImmediate(resolve));
    expect(broker.requests).toHaveLength(0);
    await acc.flush();
    expect((await sent).offset).toBe('0');
    acc.dispose();
  });

  it('bounds requests in flight per broker by maxInFlight', async () => {
    const broker = fakeBroker();
    let release!: () => void;
    broker.holdUntil(new Promise<void>((resolve) => (release = resolve)));
    const acc = accumulator({ sink: broker.sink, maxInFlight: 2, leaderOf: (_t, p) => (p < 4 ? 0 : 1) });
    // Records on 8 partitions, 4 per leader, each record its own batch so each needs its own request slot.
    const sent = Array.from({ length: 8 }, (_, p) => acc.append(wire(`r${p}`, 2_000), at(p)));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // One request per leader holds all its ready batches.
    expect(broker.requests.map((r) => r.map((b) => b.partition))).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    release();
    broker.holdUntil(undefined);
    await Promise.all(sent);
  });

  it('fails everything queued with the given error after failAll, and refuses new records', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, lingerMs: 60_000 });
    const queued = acc.append(wire('r'), at(0));
    const fenced = new KafkaConnectionError('fenced for the test');
    acc.failAll(fenced);
    await expect(queued).rejects.toBe(fenced);
    await expect(acc.append(wire('r2'), at(0))).rejects.toBe(fenced);
    acc.dispose();
  });
  it('tells one receiver about many records by index, and sets the partition each was placed in', async () => {
    const broker = fakeBroker();
    const acc = accumulator({ sink: broker.sink, batchBytes: 1_000_000 });
    const resolved: Array<[number, string]> = [];
    const rejected: number[] = [];
    const records = Array.from({ length: 6 }, (_, i) => wire(`r${i}`));
    const all = new Promise<void>((resolve) => {
      const receiver = {
        resolved: (index: number, metadata: { offset: string }) => {
          resolved.push([index, metadata.offset]);
          if (resolved.length + rejected.length === records.length) resolve();
        },
        rejected: (index: number) => {
          rejected.push(index);
          if (resolved.length + rejected.length === records.length) resolve();
        },
      };
      records.forEach((record, i) => {
        acc.appendTo(record, at(i % 2), receiver, i);
      });
    });
    await all;
    expect(rejected).toEqual([]);
    expect(resolved.sort((a, b) => a[0] - b[0])).toEqual([
      [0, '0'],
      [1, '0'],
      [2, '1'],
      [3, '1'],
      [4, '2'],
      [5, '2'],
    ]);
    expect(records.map((r) => r.partition)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(broker.requests).toHaveLength(1);
  });
});
