/**
 * producer: the Cascade producer against raw kafkajs 2.2.4 on the same broker, 1 KB records.
 * Before anything is measured, 45 s of load warm the broker and the JIT. (a) and (b) run in
 * interleaved rounds and report the median per-round ratio with its min and max.
 * (a) concurrent single-record send() calls, both sides non-idempotent (concurrent idempotent
 *     kafkajs sends lose records, tulios/kafkajs#1005), in two forms:
 *     - as the issue specifies: every send fired at once (`Promise.all`, no cap) on both sides,
 *       5 rounds of 100,000, with the records the broker stored counted per side;
 *     - capped: 5 rounds of 20,000 concurrent Cascade sends vs 5,000 kafkajs sends kept 1,000
 *       in flight at a time (a friendlier baseline).
 *     Cascade's accumulator batches them; the kafkajs baseline sends each as its own request.
 * (b) explicit batches of 1,000: Cascade sendBatch vs kafkajs send of the same batch, awaited
 *     one after another in interleaved pairs (12 rounds of 20 pairs), both idempotent with
 *     acks = all.
 * (c) null keys, linger 5 ms, 20 closed-loop senders: uniformSticky vs roundRobin.
 * (d) transactions of 100 records: Cascade transaction() vs kafkajs transaction + sendBatch + commit.
 */
import { createProducer, Partitioners } from '@cascade/producer';
import { bytes } from '@cascade/schema';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { type Benchmark, type BenchResult, result, roundsResult, timed } from '../harness.js';

const recordBytes = 1024;
// Both sides send the same pre-built bytes (Cascade through the bytes() serde), so the
// comparison is of the producers, not of string encoding.
const value = Buffer.alloc(recordBytes, 'x');
const valueBuffer = value;

/** Load before measuring (a fresh broker is slow at first). */
const warmUpMs = 45_000;
/**
 * (a) as specified, every send at once on both sides: records per round and rounds. A round of
 * 100,000 kafkajs sends takes 15-35 s here; if the broker falls behind kafkajs' 30 s request
 * timeout, kafkajs retries and stores duplicates, which the stored-records row shows (see
 * bench/README.md). Overridable for one-off runs: BENCH_PRODUCER_A_RECORDS, BENCH_PRODUCER_A_ROUNDS.
 */
const unboundedRecords = Number(process.env.BENCH_PRODUCER_A_RECORDS ?? 100_000);
const roundsUnbounded = Number(process.env.BENCH_PRODUCER_A_ROUNDS ?? 5);
/** (a), capped: rounds, Cascade sends per round (all concurrent), kafkajs sends per round and in flight. */
const roundsA = 5;
const cascadePerRoundA = 20_000;
const rawPerRoundA = 5_000;
const rawInFlightA = 1_000;
/** (b): rounds, and batches of 1,000 per side per round (sent in interleaved pairs). */
const roundsB = 12;
const pairsPerRoundB = 20;

/** Runs the two sides of a round in A-B, then B-A order, so neither always goes first. */
async function alternate(round: number, a: () => Promise<void>, b: () => Promise<void>): Promise<void> {
  if (round % 2 === 0) {
    await a();
    await b();
  } else {
    await b();
    await a();
  }
}

async function createTopic(kafka: Kafka, topic: string, numPartitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
  await admin.disconnect();
}

/**
 * Load against a fresh topic before anything is measured: a freshly started broker (and Node's
 * JIT) is markedly slower at first, as the saga benchmark found. Both producers' paths run.
 */
async function warmUp(kafka: Kafka, brokers: string[], log: (m: string) => void): Promise<void> {
  const topic = `bench-producer-warmup-${Date.now()}`;
  await createTopic(kafka, topic, 3);
  const batch = Array.from({ length: 1_000 }, (_, i) => ({ topic, key: `key-${i % 64}`, value }));
  const rawBatch = batch.map((r) => ({ key: r.key, value: valueBuffer }));
  await using producer = createProducer({ brokers, clientId: 'bench-cascade', value: bytes() });
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const rawSingle = kafka.producer();
  await Promise.all([producer.connect(), raw.connect(), rawSingle.connect()]);
  const until = Date.now() + warmUpMs;
  let records = 0;
  while (Date.now() < until) {
    await producer.sendBatch(batch);
    await raw.send({ topic, acks: -1, messages: rawBatch });
    await Promise.all(batch.map((r) => producer.send(r)));
    await Promise.all(rawBatch.slice(0, 200).map((m) => rawSingle.send({ topic, acks: -1, messages: [m] })));
    records += 3_200;
  }
  await Promise.all([raw.disconnect(), rawSingle.disconnect()]);
  log(`warm-up: ${records} records in ${warmUpMs / 1_000} s`);
}

/** Records stored in `topic` (the sum of its partitions' end offsets; the topic starts empty). */
async function storedRecords(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
}

/**
 * (a) as the issue specifies it: every single-record send() fired at once (`Promise.all` of N
 * sends, no in-flight cap), on both sides, each side on its own topic so the records the broker
 * stored can be counted. Both non-idempotent (see the capped variant), acks = all, no compression,
 * each side's default producer settings (kafkajs: no maxInFlightRequests cap, requestTimeout 30 s,
 * retries 5; Cascade: lingerMs 5, batchBytes 512 KiB, bufferMemoryBytes 32 MiB).
 */
async function unboundedSends(
  kafka: Kafka,
  brokers: string[],
  log: (m: string) => void,
): Promise<BenchResult[]> {
  const cascadeTopic = `bench-producer-a-cascade-${Date.now()}`;
  const rawTopic = `bench-producer-a-kafkajs-${Date.now()}`;
  await createTopic(kafka, cascadeTopic, 3);
  await createTopic(kafka, rawTopic, 3);
  await using producer = createProducer({
    brokers,
    clientId: 'bench-cascade',
    value: bytes(),
    idempotent: false,
  });
  const raw = kafka.producer({ idempotent: false });
  let rawTimeouts = 0;
  raw.on(raw.events.REQUEST_TIMEOUT, () => {
    rawTimeouts += 1;
  });
  await Promise.all([producer.connect(), raw.connect()]);
  const cascadeSend = (i: number) => producer.send({ topic: cascadeTopic, key: `key-${i % 64}`, value });
  const rawSend = (i: number) =>
    raw.send({ topic: rawTopic, acks: -1, messages: [{ key: `key-${i % 64}`, value: valueBuffer }] });
  const warmUpSends = 1_000;
  await Promise.all(Array.from({ length: warmUpSends }, (_, i) => cascadeSend(i)));
  await Promise.all(Array.from({ length: warmUpSends }, (_, i) => rawSend(i)));
  const cascadeRates: number[] = [];
  const rawRates: number[] = [];
  let rawFailed = 0;
  for (let round = 0; round < roundsUnbounded; round++) {
    await alternate(
      round,
      async () => {
        const seconds = await timed(async () => {
          await Promise.all(Array.from({ length: unboundedRecords }, (_, i) => cascadeSend(i)));
        });
        cascadeRates.push(unboundedRecords / seconds);
      },
      async () => {
        const seconds = await timed(async () => {
          // Failures are counted, not thrown: the round is timed to the last send's outcome.
          await Promise.all(
            Array.from({ length: unboundedRecords }, (_, i) =>
              rawSend(i).catch(() => {
                rawFailed += 1;
              }),
            ),
          );
        });
        rawRates.push(unboundedRecords / seconds);
      },
    );
  }
  await raw.disconnect();
  const sent = warmUpSends + roundsUnbounded * unboundedRecords;
  const [cascadeStored, rawStored] = await Promise.all([
    storedRecords(kafka, cascadeTopic),
    storedRecords(kafka, rawTopic),
  ]);
  log(`(a) all at once: cascade records/s per round: ${cascadeRates.map(Math.round).join(', ')}`);
  log(`(a) all at once: kafkajs records/s per round: ${rawRates.map(Math.round).join(', ')}`);
  log(
    `(a) all at once: stored ${cascadeStored} (cascade) and ${rawStored} (kafkajs) of ${sent} sent each; kafkajs request timeouts ${rawTimeouts}, failed sends ${rawFailed}`,
  );
  return [
    roundsResult(
      `(a) ${unboundedRecords.toLocaleString('en-US')} concurrent send() of 1 KB, all at once, vs kafkajs send() per record, all at once`,
      'records/s',
      cascadeRates,
      rawRates,
    ),
    result(
      '(a) records the broker stored per record sent (all at once)',
      'records',
      cascadeStored / sent,
      rawStored / sent,
    ),
  ];
}

/** (a), capped: a friendlier baseline that keeps 1,000 kafkajs sends in flight at a time. */
async function cappedSends(
  kafka: Kafka,
  brokers: string[],
  log: (m: string) => void,
): Promise<BenchResult[]> {
  const topic = `bench-producer-a-capped-${Date.now()}`;
  await createTopic(kafka, topic, 3);
  // Same settings on both sides: acks = all, no compression, and not idempotent, because
  // concurrent idempotent kafkajs sends lose records (tulios/kafkajs#1005).
  await using producer = createProducer({
    brokers,
    clientId: 'bench-cascade',
    value: bytes(),
    idempotent: false,
  });
  const raw = kafka.producer({ idempotent: false });
  await Promise.all([producer.connect(), raw.connect()]);
  const cascadeSend = (i: number) => producer.send({ topic, key: `key-${i % 64}`, value });
  const rawSend = (i: number) =>
    raw.send({ topic, acks: -1, messages: [{ key: `key-${i % 64}`, value: valueBuffer }] });
  await Promise.all(Array.from({ length: 5_000 }, (_, i) => cascadeSend(i)));
  await Promise.all(Array.from({ length: 1_000 }, (_, i) => rawSend(i)));
  // Rounds in alternating order (A/B, B/A), so drift on the shared machine hits both alike:
  // 20,000 concurrent Cascade sends, and 5,000 kafkajs sends (1,000 in flight at a time).
  const before = producer.stats.requests;
  const cascadeRates: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < roundsA; round++) {
    const cascade = async () => {
      const seconds = await timed(async () => {
        await Promise.all(Array.from({ length: cascadePerRoundA }, (_, i) => cascadeSend(i)));
      });
      cascadeRates.push(cascadePerRoundA / seconds);
    };
    const kafkajs = async () => {
      const seconds = await timed(async () => {
        for (let start = 0; start < rawPerRoundA; start += rawInFlightA) {
          await Promise.all(Array.from({ length: rawInFlightA }, (_, i) => rawSend(start + i)));
        }
      });
      rawRates.push(rawPerRoundA / seconds);
    };
    await alternate(round, cascade, kafkajs);
  }
  await raw.disconnect();
  const records = roundsA * cascadePerRoundA;
  const requests = producer.stats.requests - before;
  log(
    `(a) capped: cascade records/s per round: ${cascadeRates.map(Math.round).join(', ')} (${requests} requests)`,
  );
  log(`(a) capped: kafkajs records/s per round: ${rawRates.map(Math.round).join(', ')}`);
  return [
    roundsResult(
      '(a, capped) 20,000 concurrent send() of 1 KB vs kafkajs send() per record, 1,000 in flight',
      'records/s',
      cascadeRates,
      rawRates,
    ),
    result('(a) produce requests per 1,000 records', 'requests', (requests / records) * 1_000, 1_000),
  ];
}

async function explicitBatches(
  kafka: Kafka,
  brokers: string[],
  log: (m: string) => void,
): Promise<BenchResult[]> {
  const topic = `bench-producer-b-${Date.now()}`;
  await createTopic(kafka, topic, 3);
  const batch = Array.from({ length: 1_000 }, (_, i) => ({ topic, key: `key-${i % 64}`, value }));
  const rawBatch = batch.map((r) => ({ key: r.key, value: valueBuffer }));
  await using producer = createProducer({ brokers, clientId: 'bench-cascade', value: bytes() });
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([producer.connect(), raw.connect()]);
  for (let i = 0; i < 10; i++) {
    await producer.sendBatch(batch);
    await raw.send({ topic, acks: -1, messages: rawBatch });
  }
  // Rounds of batch pairs, the order inside each pair alternating (A/B, B/A), so drift on the
  // shared machine, even within a round, hits both alike. Each side awaits its batch.
  const cascadeRates: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < roundsB; round++) {
    let cascadeSeconds = 0;
    let rawSeconds = 0;
    for (let pair = 0; pair < pairsPerRoundB; pair++) {
      await alternate(
        pair,
        async () => {
          cascadeSeconds += await timed(async () => {
            await producer.sendBatch(batch);
          });
        },
        async () => {
          rawSeconds += await timed(async () => {
            await raw.send({ topic, acks: -1, messages: rawBatch });
          });
        },
      );
    }
    cascadeRates.push((pairsPerRoundB * batch.length) / cascadeSeconds);
    rawRates.push((pairsPerRoundB * batch.length) / rawSeconds);
  }
  await raw.disconnect();
  log(`(b) cascade records/s per round: ${cascadeRates.map(Math.round).join(', ')}`);
  log(`(b) kafkajs records/s per round: ${rawRates.map(Math.round).join(', ')}`);
  return [
    roundsResult(
      '(b) sendBatch of 1,000 x 1 KB vs kafkajs send of the same batch',
      'records/s',
      cascadeRates,
      rawRates,
    ),
  ];
}

async function nullKeys(kafka: Kafka, brokers: string[], log: (m: string) => void): Promise<BenchResult[]> {
  const topic = `bench-producer-c-${Date.now()}`;
  await createTopic(kafka, topic, 6);
  const perSender = 1_000;
  const senders = 20;
  const run = async (partitioner: 'sticky' | 'roundRobin') => {
    await using producer = createProducer({
      brokers,
      clientId: 'bench-cascade',
      value: bytes(),
      lingerMs: 5,
      partitioner: partitioner === 'sticky' ? Partitioners.uniformSticky() : Partitioners.roundRobin(),
    });
    await producer.connect();
    await producer.send({ topic, value });
    const before = producer.stats;
    const seconds = await timed(async () => {
      await Promise.all(
        Array.from({ length: senders }, async () => {
          for (let i = 0; i < perSender; i++) await producer.send({ topic, value });
        }),
      );
    });
    const after = producer.stats;
    return {
      rate: (senders * perSender) / seconds,
      requests: after.requests - before.requests,
      batches: after.batches - before.batches,
    };
  };
  const sticky = await run('sticky');
  const roundRobin = await run('roundRobin');
  log(`(c) sticky ${JSON.stringify(sticky)} roundRobin ${JSON.stringify(roundRobin)}`);
  return [
    result(
      '(c) null keys, linger 5 ms: uniformSticky vs roundRobin',
      'records/s',
      sticky.rate,
      roundRobin.rate,
    ),
    result('(c) produce requests (20,000 records)', 'requests', sticky.requests, roundRobin.requests),
    result('(c) partition batches (20,000 records)', 'batches', sticky.batches, roundRobin.batches),
  ];
}

async function transactions(
  kafka: Kafka,
  brokers: string[],
  log: (m: string) => void,
): Promise<BenchResult[]> {
  const topic = `bench-producer-d-${Date.now()}`;
  await createTopic(kafka, topic, 3);
  const count = 100;
  const perTx = 100;
  const records = Array.from({ length: perTx }, (_, i) => ({ topic, key: `key-${i % 64}`, value }));
  await using producer = createProducer({
    brokers,
    clientId: 'bench-cascade',
    value: bytes(),
    transactionalId: `bench-cascade-${Date.now()}`,
  });
  const raw = kafka.producer({
    transactionalId: `bench-kafkajs-${Date.now()}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await raw.connect();
  const rawTx = async () => {
    const tx = await raw.transaction();
    await tx.send({
      topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: records.map((r) => ({ key: r.key, value: valueBuffer })),
    });
    await tx.commit();
  };
  const cascadeTx = () => producer.transaction((tx) => tx.sendBatch(records));
  await cascadeTx();
  await rawTx();
  // Alternating rounds, as in (b).
  let cascadeSeconds = 0;
  let rawSeconds = 0;
  for (let round = 0; round < 4; round++) {
    const cascade = async () => {
      cascadeSeconds += await timed(async () => {
        for (let i = 0; i < count / 4; i++) await cascadeTx();
      });
    };
    const kafkajs = async () => {
      rawSeconds += await timed(async () => {
        for (let i = 0; i < count / 4; i++) await rawTx();
      });
    };
    await alternate(round, cascade, kafkajs);
  }
  await raw.disconnect();
  log(
    `(d) cascade ${Math.round(count / cascadeSeconds)} tx/s vs kafkajs ${Math.round(count / rawSeconds)} tx/s`,
  );
  return [
    result('(d) transactions of 100 x 1 KB', 'transactions/s', count / cascadeSeconds, count / rawSeconds),
    result(
      '(d) transactions of 100 x 1 KB',
      'records/s',
      (count * perTx) / cascadeSeconds,
      (count * perTx) / rawSeconds,
    ),
  ];
}

const benchmark: Benchmark = {
  name: 'producer',
  description:
    'Cascade producer vs raw kafkajs 2.2.4 on the same broker, 1 KB records, acks = all, after 45 s of warm-up load: (a) concurrent single-record send(), both non-idempotent: all at once on both sides (Promise.all, no cap; 5 rounds of 100,000 per side, records stored counted), and capped (5 rounds of 20,000 Cascade sends vs 5 rounds of 5,000 kafkajs sends, 1,000 in flight); (b) sendBatch of 1,000 vs kafkajs send of the same batch, both idempotent, 12 rounds of 20 interleaved pairs; (a) and (b) give the median of per-round ratios (min–max), rounds alternating A/B and B/A; (c) null keys at linger 5 ms, 20 closed-loop senders: uniformSticky vs roundRobin (baseline); (d) transactions of 100 records vs kafkajs transactions, 4 alternating rounds.',
  async run({ brokers, log }) {
    const kafka = new Kafka({ brokers, clientId: 'bench-producer', logLevel: logLevel.NOTHING });
    await warmUp(kafka, brokers, log);
    return [
      ...(await unboundedSends(kafka, brokers, log)),
      ...(await cappedSends(kafka, brokers, log)),
      ...(await explicitBatches(kafka, brokers, log)),
      ...(await nullKeys(kafka, brokers, log)),
      ...(await transactions(kafka, brokers, log)),
    ];
  },
};

export default benchmark;
