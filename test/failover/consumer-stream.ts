// Helpers of the consumer failover tests (test/failover/consumer-*.test.ts, eos, rack-awareness):
// a steady keyed stream of numbered records produced while brokers die, and what consumers saw of
// it, so a test can tell lost records, duplicates and how long each member lagged behind.
import { appendFileSync } from 'node:fs';
import type { Logger } from '@cascade/core';
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import { createProducer } from '@cascade/producer';
import { json, string } from '@cascade/schema';
import { Kafka, logLevel } from 'kafkajs';

/** A test's own kafkajs client on a three-node cluster (logging off, the Node 24 timeout fix). */
export function rawClient(brokers: readonly string[], clientId: string): Kafka {
  patchKafkajsNegativeTimeout();
  return new Kafka({
    brokers: [...brokers],
    clientId,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 },
  });
}

/** The value of a stream record: its number and when the send that stored it began. */
export interface StreamValue {
  readonly seq: number;
  readonly sentAt: number;
}

/** A producer of numbered records at a steady rate. */
export interface SteadyStream {
  /** Numbers of the records the broker acknowledged. */
  readonly acked: Set<number>;
  /** How many records were sent so far (acknowledged or not yet). */
  readonly next: () => number;
  /** Stops producing; resolves once every record it sent was stored (failed sends are sent again). */
  stop(): Promise<void>;
}

/**
 * Sends `perTick` records every `tickMs` (up to `total` in all; keys `k0`..`k<keys-1>`, so every partition gets some)
 * with Cascade's idempotent producer, each record a `send()` of its own, without waiting for
 * earlier sends. A failed send is sent again on the next tick (a new `sentAt`), and `stop()`
 * waits until every record was stored, so nothing is given up; a record the broker stored but
 * answered with an error may be stored twice, which consumers see as a duplicate of the
 * producer's, not theirs: tests count distinct numbers.
 *
 * Not a raw kafkajs producer: kafkajs 2.2.4 can resolve a `send()` whose records for one
 * partition no broker stored (its retry skips a broker that answered the first attempt, and a
 * partition whose leader moved to that broker is never sent; kafkajs#1303). Cascade's sink
 * sends such a partition again (`packages/kafkajs/src/produce.ts`), so "acknowledged" here means stored.
 */
export async function steadyStream(
  brokers: readonly string[],
  topic: string,
  options: { perTick?: number; tickMs?: number; keys?: number; total?: number } = {},
): Promise<SteadyStream> {
  const total = options.total ?? Number.POSITIVE_INFINITY;
  const perTick = options.perTick ?? 20;
  const tickMs = options.tickMs ?? 50;
  const keys = options.keys ?? 64;
  const producer = createProducer({
    brokers,
    clientId: `stream-${topic}`,
    requestTimeoutMs: 5_000,
    retry: { initialIntervalMs: 100, maximumIntervalMs: 1_000 },
    key: string(),
    value: json<StreamValue>(),
    lingerMs: 5,
    deliveryTimeoutMs: 20_000,
  });
  await producer.connect();
  const acked = new Set<number>();
  const inFlight = new Set<Promise<void>>();
  let failed: number[] = [];
  let seq = 0;
  let stopped = false;
  const send = (n: number, sentAt: number): void => {
    const sending = producer
      .send({ topic, key: `k${n % keys}`, value: { seq: n, sentAt } })
      .then(
        () => void acked.add(n),
        // Sent again on the next tick, with a new sentAt.
        () => void failed.push(n),
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };
  // Sends do not wait for each other: a send held up by a dead leader does not stop the stream.
  const loop = (async () => {
    while (!stopped) {
      const tickStart = Date.now();
      const again = failed;
      failed = [];
      for (const n of again) send(n, tickStart);
      for (let i = 0; i < perTick && seq < total; i++) send(seq++, tickStart);
      const rest = tickMs - (Date.now() - tickStart);
      // The generator's pace, not a test's wait.
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
    // What failed last is sent until it is stored: nothing given up.
    while (inFlight.size > 0 || failed.length > 0) {
      await Promise.all(inFlight);
      const again = failed;
      failed = [];
      for (const n of again) send(n, Date.now());
    }
  })();
  return {
    acked,
    next: () => seq,
    async stop() {
      stopped = true;
      await loop;
      await producer.close();
    },
  };
}

/** One record a consumer member handled. */
export interface Seen {
  readonly member: number;
  readonly seq: number;
  readonly sentAt: number;
  readonly at: number;
  /** `partition@offset` of the handled record. */
  readonly where?: string;
}

/** What consumers saw of a stream: every handling, in the order they happened. */
export class StreamLog {
  readonly seen: Seen[] = [];
  readonly #count = new Map<number, number>();

  /** Records one handling of a stream value by `member`. */
  add(member: number, value: StreamValue, where?: string): void {
    this.seen.push({
      member,
      seq: value.seq,
      sentAt: value.sentAt,
      at: Date.now(),
      ...(where === undefined ? {} : { where }),
    });
    this.#count.set(value.seq, (this.#count.get(value.seq) ?? 0) + 1);
  }

  /** Acknowledged numbers no member handled. */
  missing(acked: Iterable<number>): number[] {
    return [...acked].filter((n) => !this.#count.has(n)).sort((a, b) => a - b);
  }

  /** Whether every acknowledged number was handled. */
  hasAll(acked: Set<number>): boolean {
    for (const n of acked) if (!this.#count.has(n)) return false;
    return true;
  }

  /** Handlings beyond the first of a number (at-least-once redeliveries and producer retries). */
  duplicates(): number {
    let extra = 0;
    for (const count of this.#count.values()) extra += count - 1;
    return extra;
  }

  /** Whether `member` handled records in the last `windowMs`, each within `lagMs` of its send. */
  keepsUp(member: number, windowMs: number, lagMs: number): boolean {
    const since = Date.now() - windowMs;
    let any = false;
    for (let i = this.seen.length - 1; i >= 0; i--) {
      const s = this.seen[i] as Seen;
      if (s.at < since) break;
      if (s.member !== member) continue;
      if (s.at - s.sentAt > lagMs) return false;
      any = true;
    }
    return any;
  }

  /**
   * How long after `from` `member` was last behind: the latest handling after `from` of a record
   * handled more than `lagMs` after its send, minus `from` (0 when it never fell behind).
   */
  recoveredAfter(member: number, from: number, lagMs: number): number {
    let last = from;
    for (const s of this.seen) {
      if (s.member === member && s.at > from && s.at - s.sentAt > lagMs) last = Math.max(last, s.at);
    }
    return last - from;
  }

  /** The `q` quantile (0..1) of handling lag of records handled in `[from, to)`, in ms. */
  lagQuantile(q: number, from: number, to: number): number {
    const lags = this.seen
      .filter((s) => s.at >= from && s.at < to)
      .map((s) => s.at - s.sentAt)
      .sort((a, b) => a - b);
    if (lags.length === 0) return 0;
    return lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] as number;
  }
}

/**
 * A logger writing JSON lines to the file named by `CASCADE_FAILOVER_LOG` (for looking into a
 * failover run by hand), or `undefined` when it is not set.
 */
export function failoverLogger(name: string): Logger | undefined {
  const file = process.env.CASCADE_FAILOVER_LOG;
  if (file === undefined || file === '') return undefined;
  const write =
    (level: string, base: Record<string, unknown>) =>
    (message: string, meta: Record<string, unknown> = {}) => {
      // kafkajs' per-request debug lines would drown the rest.
      if (message.startsWith('Request ') || message.startsWith('Response ')) return;
      appendFileSync(
        file,
        `${JSON.stringify(
          { t: new Date().toISOString().slice(11, 23), name, level, message, ...base, ...meta },
          (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
        )}\n`,
      );
    };
  const make = (base: Record<string, unknown>): Logger => ({
    debug: write('debug', base),
    info: write('info', base),
    warn: write('warn', base),
    error: write('error', base),
    child: (meta) => make({ ...base, ...meta }),
  });
  return make({});
}

/**
 * The stream numbers stored in `topic` (read_committed, from the beginning), each with where it
 * is (`partition@offset`), reading until `count` distinct numbers or 20 s without a new one.
 */
export async function storedSeqs(kafka: Kafka, topic: string, count: number): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  const consumer = kafka.consumer({ groupId: `scan-${topic}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let last = Date.now();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = JSON.parse(message.value?.toString() ?? '{}') as StreamValue;
        found.set(value.seq, `${partition}@${message.offset}`);
        last = Date.now();
      },
    });
    while (found.size < count && Date.now() - last < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await consumer.disconnect();
  }
  return found;
}
