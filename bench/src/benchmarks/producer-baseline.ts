/**
 * producer-baseline: raw kafkajs producer throughput for 1 KB records, with `send()` of 1, 100
 * and 1,000 records per call (each call awaited before the next, acks = all). The baseline of
 * every case is the 1-record-per-call rate, so the ratio shows what batching alone is worth.
 * This is the yardstick the Cascade producer benchmark is read against.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { type Benchmark, type BenchResult, result, timed } from '../harness.js';

const recordBytes = 1024;
const cases = [
  { perCall: 1, records: 5_000 },
  { perCall: 100, records: 50_000 },
  { perCall: 1_000, records: 100_000 },
] as const;

async function sendAll(producer: Producer, topic: string, perCall: number, records: number): Promise<void> {
  const value = Buffer.alloc(recordBytes, 'x');
  const batch = Array.from({ length: perCall }, (_, i) => ({ key: `key-${i % 64}`, value }));
  for (let sent = 0; sent < records; sent += perCall) {
    await producer.send({ topic, acks: -1, messages: batch });
  }
}

const benchmark: Benchmark = {
  name: 'producer-baseline',
  description:
    'Raw kafkajs 2.2.4 producer, 1 KB records, acks=all, send() of 1 / 100 / 1,000 records per awaited call; baseline = 1 record per call.',
  async run({ brokers, log }) {
    const kafka = new Kafka({ brokers, clientId: 'bench-producer-baseline', logLevel: logLevel.NOTHING });
    const topic = `bench-producer-baseline-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    try {
      await sendAll(producer, topic, 100, 5_000); // warm-up: connections, metadata, JIT
      const rates: Array<{ perCall: number; recordsPerSecond: number }> = [];
      for (const { perCall, records } of cases) {
        const seconds = await timed(() => sendAll(producer, topic, perCall, records));
        rates.push({ perCall, recordsPerSecond: records / seconds });
        log(`${perCall} per call: ${Math.round(records / seconds)} records/s`);
      }
      const baseline = rates[0]?.recordsPerSecond ?? Number.NaN;
      const results: BenchResult[] = [];
      for (const { perCall, recordsPerSecond } of rates) {
        results.push(result(`send() x${perCall}`, 'records/s', recordsPerSecond, baseline));
        results.push(
          result(
            `send() x${perCall}`,
            'MB/s',
            (recordsPerSecond * recordBytes) / 1e6,
            (baseline * recordBytes) / 1e6,
          ),
        );
      }
      return results;
    } finally {
      await producer.disconnect();
    }
  },
};

export default benchmark;
