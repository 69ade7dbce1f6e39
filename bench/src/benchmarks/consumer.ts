/**
 * consumer: the Cascade consumer against raw kafkajs 2.2.4 `eachMessage`, same broker, same run.
 * (a) 200,000 x 1 KB records, no-op handler: Cascade partition mode vs kafkajs eachMessage
 *     (both with 4 partitions consumed concurrently); rate from the first record to the last.
 * (b) a handler awaiting 5 ms of I/O, 4 partitions, 1,000 distinct keys: Cascade key mode vs
 *     kafkajs eachMessage; per-key order is verified in the run.
 * (c) peak RSS while a 50 ms handler works through a 1 GB backlog (key mode, maxInFlight 1,000),
 *     over the first 100,000 records and over the next 200,000: bounded memory keeps them level.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createConsumer } from '@cascade/consumer';
import { patchKafkajsNegativeTimeout } from '@cascade/kafkajs/internal';
import { bytes, string } from '@cascade/schema';
import { type Kafka, Kafka as KafkaClient, logLevel } from 'kafkajs';
import { type Benchmark, type BenchResult, result } from '../harness.js';

const partitions = 4;

async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

async function deleteTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
}

/** Writes records; `ordered` keeps one send in flight so each key's records stay in order in the log. */
async function fill(
  kafka: Kafka,
  topic: string,
  count: number,
  make: (i: number) => { key: string; value: Buffer | string },
  ordered = false,
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const perCall = 1_000;
  const inFlight: Promise<unknown>[] = [];
  for (let sent = 0; sent < count; sent += perCall) {
    const messages = Array.from({ length: Math.min(perCall, count - sent) }, (_, i) => make(sent + i));
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    if (inFlight.length >= (ordered ? 1 : 8)) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
}

/** Resolves when `done()` is true, polling every 10 ms. */
async function until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Records per second from the first handled record to the last, with raw kafkajs eachMessage. */
async function kafkajsRate(
  kafka: Kafka,
  topic: string,
  count: number,
  handle: (key: string, value: Buffer) => Promise<void> | void,
): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-kafkajs-${Date.now()}`, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0n;
  let last = 0n;
  await consumer.run({
    partitionsConsumedConcurrently: partitions,
    eachMessage: async ({ message }) => {
      if (seen === 0) first = process.hrtime.bigint();
      await handle(message.key?.toString() ?? '', message.value ?? Buffer.alloc(0));
      seen++;
      last = process.hrtime.bigint();
    },
  });
  await until(
    () => seen >= count,
    600_000,
    () => `kafkajs: ${seen}/${count}`,
  );
  await consumer.disconnect();
  return (count - 1) / (Number(last - first) / 1e9);
}

/** The same with a Cascade consumer. */
async function cascadeRate(
  brokers: string[],
  topic: string,
  count: number,
  mode: 'partition' | 'key',
  handle: (key: string, value: Buffer) => Promise<void> | void,
): Promise<number> {
  const consumer = createConsumer({
    kafka: { brokers, clientId: 'bench-cascade' },
    groupId: `bench-cascade-${Date.now()}`,
    fromBeginning: true,
    maxInFlight: 2_000,
    partitionsConsumedConcurrently: partitions,
  });
  let seen = 0;
  let first = 0n;
  let last = 0n;
  consumer.subscribe({
    topic,
    key: string(),
    value: bytes(),
    tombstones: 'skip',
    concurrency: mode,
    maxConcurrency: 500,
    dlt: false,
    handler: async (message) => {
      if (seen === 0) first = process.hrtime.bigint();
      await handle(message.key ?? '', message.value);
      seen++;
      last = process.hrtime.bigint();
    },
  });
  await consumer.start();
  await until(
    () => seen >= count,
    600_000,
    () => `cascade: ${seen}/${count}`,
  );
  await consumer.stop();
  return (count - 1) / (Number(last - first) / 1e9);
}

const ioDelay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const benchmark: Benchmark = {
  name: 'consumer',
  description:
    'Cascade consumer vs raw kafkajs 2.2.4 eachMessage (4 partitions consumed concurrently), same broker and run: (a) 200,000 x 1 KB no-op, partition mode; (b) 5 ms I/O handler, 1,000 keys, key mode, per-key order verified; (c) peak RSS, 50 ms handler, 1 GB backlog, key mode, maxInFlight 1,000: first 100,000 records vs RSS before, next 200,000 vs the first 100,000 (about 1x = bounded).',
  async run({ brokers, log }) {
    patchKafkajsNegativeTimeout();
    const kafka = new KafkaClient({ brokers, clientId: 'bench-consumer', logLevel: logLevel.NOTHING });
    const results: BenchResult[] = [];

    // (c) memory under a slow handler and a 1 GB backlog.
    // Measured first: the throughput cases leave fetch buffers behind that RSS never gives back.
    const kb = Buffer.alloc(1024, 'x');
    const bigTopic = `bench-consumer-backlog-${Date.now()}`;
    const bigCount = 1_000_000;
    await createTopic(kafka, bigTopic);
    // Written by a child process, so the producer's buffers do not count in this process's RSS.
    await new Promise<void>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), [
        '--fill-backlog',
        brokers.join(','),
        bigTopic,
        String(bigCount),
      ]);
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`backlog writer exited ${code}`)),
      );
    });
    log('(c) 1 GB backlog written');
    global.gc?.();
    const before = process.memoryUsage().rss;
    // Peak RSS while handling the first 100,000 records (warm-up), and over the next 200,000:
    // bounded memory means the second stays level with the first.
    let peakWarm = before;
    let peakLater = 0;
    let handled = 0;
    const sampler = setInterval(() => {
      const rss = process.memoryUsage().rss;
      if (handled < 100_000) peakWarm = Math.max(peakWarm, rss);
      else peakLater = Math.max(peakLater, rss);
    }, 100);
    const consumer = createConsumer({
      kafka: { brokers, clientId: 'bench-cascade-rss' },
      groupId: `bench-cascade-rss-${Date.now()}`,
      fromBeginning: true,
      maxInFlight: 1_000,
    });
    consumer.subscribe({
      topic: bigTopic,
      key: string(),
      value: bytes(),
      concurrency: 'key',
      maxConcurrency: 250,
      dlt: false,
      handler: async () => {
        await ioDelay(50);
        handled++;
      },
    });
    await consumer.start();
    await until(
      () => handled >= 300_000,
      600_000,
      () => `(c) ${handled} handled`,
    );
    await consumer.stop();
    clearInterval(sampler);
    const mb = (n: number): number => n / 2 ** 20;
    log(
      `(c) RSS before ${Math.round(mb(before))} MB, peak ${Math.round(mb(peakWarm))} MB over the first 100,000 records, ${Math.round(mb(peakLater))} MB over the next 200,000`,
    );
    const memory = [
      result(
        '(c) peak RSS, 50 ms handler, 1 GB backlog: records 1-100,000 (vs RSS before)',
        'MB',
        mb(peakWarm),
        mb(before),
      ),
      result(
        '(c) peak RSS, records 100,001-300,000 (vs the first 100,000)',
        'MB',
        mb(peakLater),
        mb(peakWarm),
      ),
    ];
    await deleteTopic(kafka, bigTopic);
    // (a) throughput, no-op handler.
    const noopTopic = `bench-consumer-noop-${Date.now()}`;
    const noopCount = 200_000;
    await createTopic(kafka, noopTopic);
    await fill(kafka, noopTopic, noopCount, (i) => ({ key: `k${i % 1000}`, value: kb }));
    log(`(a) ${noopCount} records written`);
    const rawNoop = await kafkajsRate(kafka, noopTopic, noopCount, () => undefined);
    log(`(a) kafkajs eachMessage: ${Math.round(rawNoop)} records/s`);
    const cascadeNoop = await cascadeRate(brokers, noopTopic, noopCount, 'partition', () => undefined);
    log(`(a) cascade partition mode: ${Math.round(cascadeNoop)} records/s`);
    results.push(result('(a) no-op handler, 1 KB, partition mode', 'records/s', cascadeNoop, rawNoop));
    await deleteTopic(kafka, noopTopic);

    // (b) 5 ms I/O per record, 1,000 keys.
    const ioTopic = `bench-consumer-io-${Date.now()}`;
    const keys = 1_000;
    await createTopic(kafka, ioTopic);
    const rawCount = 4_000;
    const cascadeCount = 40_000;
    await fill(
      kafka,
      ioTopic,
      cascadeCount,
      (i) => ({ key: `key-${i % keys}`, value: String(Math.floor(i / keys)) }),
      true,
    );
    const rawIo = await kafkajsRate(kafka, ioTopic, rawCount, () => ioDelay(5));
    log(`(b) kafkajs eachMessage: ${Math.round(rawIo)} records/s`);
    const lastSeq = new Map<string, number>();
    let outOfOrder = 0;
    const cascadeIo = await cascadeRate(brokers, ioTopic, cascadeCount, 'key', async (key, value) => {
      const seq = Number(value.toString());
      if ((lastSeq.get(key) ?? -1) !== seq - 1) outOfOrder++;
      await ioDelay(5);
      lastSeq.set(key, seq);
    });
    log(`(b) cascade key mode: ${Math.round(cascadeIo)} records/s, ${outOfOrder} out of order`);
    if (outOfOrder !== 0) throw new Error(`(b) per-key order violated ${outOfOrder} times`);
    results.push(
      result('(b) 5 ms I/O, 1,000 keys, key mode (order verified)', 'records/s', cascadeIo, rawIo),
    );
    await deleteTopic(kafka, ioTopic);

    results.push(...memory);
    return results;
  },
};

export default benchmark;

// `node consumer.js --fill-backlog <brokers> <topic> <count>`: writes the 1 KB backlog of case (c).
if (process.argv[2] === '--fill-backlog') {
  const [, , , brokerList = '', topic = '', count = '0'] = process.argv;
  patchKafkajsNegativeTimeout();
  const kafka = new KafkaClient({ brokers: brokerList.split(','), logLevel: logLevel.NOTHING });
  const kb = Buffer.alloc(1024, 'x');
  await fill(kafka, topic, Number(count), (i) => ({ key: `k${i % 10_000}`, value: kb }));
  process.exit(0);
}
